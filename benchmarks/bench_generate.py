"""Greedy generation speed: lmlab `generate` against transformers' `generate`, on the same weights.

A randomly initialised GPT-2-architecture model is exported in the Hugging Face layout
(`lmlab.io.hf.export_hf`) and loaded into both `transformers.GPT2LMHeadModel` and lmlab's GPT
(`lmlab.io.hf.import_hf`). Both decode greedily with their KV cache from the same random prompts
(32 tokens), 128 new tokens each, no stop token; the script prints new tokens per second, the
ratio lmlab / transformers, and checks that both produced the same tokens.

Targets (issue 10): tiny (4 layers, 256 wide, vocab 8192) >= 2x at batch 1 and >= 1.5x at batch 8;
GPT-2 small (12 layers, 768 wide, vocab 50257) >= 1.15x at batch 1 and 8.

    python benchmarks/bench_generate.py                      # both shapes, batch 1 and 8
    python benchmarks/bench_generate.py --shapes tiny --batch 1 --repeats 5

The ratio is transformers' time over lmlab's (wall clock); "cpu ratio" is the same with the
process's CPU time, steadier on a shared machine. "bound" is transformers' time over the time lmlab
spends inside the matrix-product and attention kernels alone (torch profiler): no decoding loop,
however lean, can beat that ratio with the same fp32 kernels, since both sides run them. Timings are the best of `--repeats` runs of each side, alternated after one warm-up run each, in
one process with the same torch thread count for both; note the machine load beside the figures
(on a busy shared CPU, `--threads 1` gives steadier numbers than OpenMP threads that wait on each
other).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

SHAPES = {
    "tiny": {"vocab_size": 8192, "d_model": 256, "n_layers": 4, "n_heads": 4, "max_seq_len": 256},
    "small": {"vocab_size": 50257, "d_model": 768, "n_layers": 12, "n_heads": 12,
              "max_seq_len": 1024},
}
TARGETS = {("tiny", 1): 2.0, ("tiny", 8): 1.5, ("small", 1): 1.15, ("small", 8): 1.15}


def build_pair(shape: str, folder: str, device: torch.device):
    """(lmlab GPT, transformers GPT2LMHeadModel) with identical random weights."""
    import transformers

    from lmlab.io.hf import export_hf, import_hf
    from lmlab.models.transformer.gpt import GPT, GPTConfig

    torch.manual_seed(0)
    src = GPT(GPTConfig.preset("gpt2-small", **SHAPES[shape])).eval()
    export_hf(src, folder)
    ours = import_hf(folder).to(device).eval()
    theirs = transformers.GPT2LMHeadModel.from_pretrained(folder).to(device).eval()
    return ours, theirs


def time_pair(fn_a, fn_b, repeats: int, device: torch.device):
    """Best-of-`repeats` (wall, CPU) seconds of two functions run alternately (after a warm-up of
    each), so that a load change on a shared machine hits both sides alike.

    Returns ((wall_a, cpu_a), (wall_b, cpu_b), out_a, out_b); CPU time is the process's.
    """
    def once(fn):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - t0, time.process_time() - c0), out

    out_a, out_b = fn_a(), fn_b()
    times_a, times_b = [], []
    for _ in range(repeats):
        t, out_a = once(fn_a)
        times_a.append(t)
        t, out_b = once(fn_b)
        times_b.append(t)
    best = lambda ts: (min(t[0] for t in ts), min(t[1] for t in ts))  # noqa: E731
    return best(times_a), best(times_b), out_a, out_b


def bench(shape: str, batch: int, args, device: torch.device) -> dict:
    from lmlab.generate import generate

    with tempfile.TemporaryDirectory() as folder:
        ours, theirs = build_pair(shape, folder, device)
    gen = torch.Generator().manual_seed(1)
    prompt = torch.randint(0, SHAPES[shape]["vocab_size"], (batch, args.prompt), generator=gen)
    prompt = prompt.to(device)
    new = args.new

    def run_ours():
        return [g.ids for g in generate(ours, prompt, max_new_tokens=new)]

    def run_theirs():
        with torch.inference_mode():
            out = theirs.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                                  max_new_tokens=new, use_cache=True,
                                  pad_token_id=0, eos_token_id=None, num_beams=1)
        return out[:, args.prompt:].tolist()

    t_ours, t_theirs, ids_ours, ids_theirs = time_pair(run_ours, run_theirs, args.repeats, device)
    same = sum(a == b for a, b in zip(ids_ours, ids_theirs, strict=True))
    kernel_s = kernel_seconds(run_ours) if device.type == "cpu" else float("nan")
    return {"shape": shape, "batch": batch, "ours_tok_s": batch * new / t_ours[0],
            "hf_tok_s": batch * new / t_theirs[0], "ratio": t_theirs[0] / t_ours[0],
            "cpu_ratio": t_theirs[1] / t_ours[1], "bound": t_theirs[0] / kernel_s,
            "identical_rows": f"{same}/{batch}", "target": TARGETS.get((shape, batch))}


KERNEL_OPS = ("aten::addmm", "aten::mm", "aten::bmm", "aten::addmv", "aten::mv", "mkldnn::_linear_pointwise",
              "aten::_scaled_dot_product_flash_attention_for_cpu")


def kernel_seconds(fn) -> float:
    """CPU seconds spent inside the matrix-product and attention kernels during one call of `fn`
    (torch profiler).

    Both sides run the same products and the same attention on the same weights and caches, so
    transformers' wall time over this is the ratio an implementation with no overhead at all
    outside those kernels would reach: the "bound" column, the ceiling of any speed-up here.
    """
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return sum(e.self_cpu_time_total for e in prof.key_averages() if e.key in KERNEL_OPS) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default="tiny,small")
    parser.add_argument("--batch", default="1,8")
    parser.add_argument("--prompt", type=int, default=32)
    parser.add_argument("--new", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    args = parser.parse_args()
    try:
        import transformers  # noqa: F401
    except ImportError:
        print("transformers is not installed: pip install transformers")
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}, "
          f"load {load:.2f}; prompt {args.prompt}, {args.new} new tokens, greedy")
    print(f"{'shape':6} {'batch':>5} {'lmlab tok/s':>12} {'HF tok/s':>10} {'ratio':>6} "
          f"{'cpu ratio':>9} {'bound':>6} {'target':>6} {'same tokens':>11}")
    for shape in args.shapes.split(","):
        for batch in (int(b) for b in args.batch.split(",")):
            r = bench(shape, batch, args, device)
            target = f"{r['target']:.2f}" if r["target"] else "-"
            print(f"{r['shape']:6} {r['batch']:>5} {r['ours_tok_s']:>12.1f} {r['hf_tok_s']:>10.1f} "
                  f"{r['ratio']:>6.2f} {r['cpu_ratio']:>9.2f} {r['bound']:>6.2f} {target:>6} "
                  f"{r['identical_rows']:>11}",
                  flush=True)


if __name__ == "__main__":
    main()

"""Training throughput of lmlab's GPT against nanoGPT's, same configuration and data.

nanoGPT (github.com/karpathy/nanoGPT) is not vendored: check it out anywhere and point
NANOGPT_DIR at it; without it the script says so and exits 0.

    git clone https://github.com/karpathy/nanoGPT /tmp/nanoGPT
    NANOGPT_DIR=/tmp/nanoGPT python benchmarks/bench_gpt_train.py
    NANOGPT_DIR=/tmp/nanoGPT python benchmarks/bench_gpt_train.py --shape small --steps 10

Both models get the same shape (learned positions, LayerNorm with biases, exact GELU as in
nanoGPT, tied embeddings, no dropout), the same initial weights (nanoGPT's are copied into ours by
name) and the same batches of token ids; each step is forward, cross-entropy over every position,
backward and AdamW (weight decay on 2-D weights only, as both configure it). The two sides
alternate step by step, so load from other processes hits both alike; the script prints the
median tokens/s of each, the ratio lmlab / nanoGPT (target >= 1.0), the same per CPU-second of the process (steadier when
other jobs share the machine) and, on a GPU, the model FLOPs utilisation.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

SHAPES = {
    "tiny": {"vocab_size": 4096, "max_seq_len": 128, "d_model": 128, "n_layers": 4, "n_heads": 4},
    "small": {"vocab_size": 8192, "max_seq_len": 256, "d_model": 256, "n_layers": 6, "n_heads": 8},
    "gpt2": {"vocab_size": 50304, "max_seq_len": 1024, "d_model": 768, "n_layers": 12, "n_heads": 12},
}


def load_nanogpt(folder: str):
    spec = importlib.util.spec_from_file_location("nanogpt_model", os.path.join(folder, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(shape: dict, nanogpt_dir: str, device: torch.device):
    from lmlab.models.transformer.gpt import GPT, GPTConfig

    ng = load_nanogpt(nanogpt_dir)
    torch.manual_seed(0)
    theirs = ng.GPT(ng.GPTConfig(block_size=shape["max_seq_len"], vocab_size=shape["vocab_size"],
                                 n_layer=shape["n_layers"], n_head=shape["n_heads"],
                                 n_embd=shape["d_model"], dropout=0.0, bias=True))
    ours = GPT(GPTConfig(**shape, activation="gelu", dropout=0.0))
    names = {"tok_emb": "transformer.wte", "pos_emb": "transformer.wpe", "blocks": "transformer.h",
             "norm_attn": "ln_1", "norm_ff": "ln_2", "norm_f": "transformer.ln_f",
             "attn.qkv": "attn.c_attn", "attn.out": "attn.c_proj", "ff.up": "mlp.c_fc",
             "ff.down": "mlp.c_proj"}  # ordered: norm_ff before norm_f
    src = theirs.state_dict()
    state = {}
    for key in ours.state_dict():
        theirs_key = key
        for a, b in names.items():
            theirs_key = theirs_key.replace(a, b)
        state[key] = src[theirs_key]
    ours.load_state_dict(state)
    return ours.to(device).train(), theirs.to(device).train()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=SHAPES, default="tiny")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per side (after 3 warm-up)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    args = parser.parse_args()
    nanogpt_dir = os.environ.get("NANOGPT_DIR")
    if not nanogpt_dir or not os.path.isfile(os.path.join(nanogpt_dir, "model.py")):
        print("NANOGPT_DIR is not set to a nanoGPT checkout (with model.py); skipping the comparison")
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    shape = SHAPES[args.shape]
    ours, theirs = build(shape, nanogpt_dir, device)
    opt_ours = ours.configure_optimizer(lr=3e-4, weight_decay=0.1)
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # nanoGPT prints
        opt_theirs = theirs.configure_optimizers(0.1, 3e-4, (0.9, 0.95), device.type)
    g = torch.Generator().manual_seed(1)
    t = shape["max_seq_len"]
    batches = [torch.randint(shape["vocab_size"], (args.batch, t + 1), generator=g).to(device)
               for _ in range(args.steps + 3)]
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
                else torch.autocast("cpu", enabled=False))

    def step_ours(ids):
        with autocast:
            logits = ours(ids[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), ids[:, 1:].reshape(-1))
        opt_ours.zero_grad(set_to_none=True)
        loss.backward()
        opt_ours.step()
        return loss

    def step_theirs(ids):
        with autocast:
            _, loss = theirs(ids[:, :-1], ids[:, 1:].contiguous())
        opt_theirs.zero_grad(set_to_none=True)
        loss.backward()
        opt_theirs.step()
        return loss

    first = (step_ours(batches[0]).item(), step_theirs(batches[0]).item())
    times: dict[str, list[float]] = {"lmlab": [], "nanoGPT": []}
    cpu: dict[str, list[float]] = {"lmlab": [], "nanoGPT": []}
    for i, ids in enumerate(batches[1:]):
        for name, fn in (("lmlab", step_ours), ("nanoGPT", step_theirs)):
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0, c0 = time.perf_counter(), time.process_time()
            fn(ids)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if i >= 2:
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
    tokens = args.batch * t
    rate = {k: tokens / statistics.median(v) for k, v in times.items()}
    cpu_rate = {k: tokens / statistics.median(v) for k, v in cpu.items()}
    print(f"shape={args.shape} {shape} batch={args.batch} device={device} threads={torch.get_num_threads()}")
    print(f"first-step loss: lmlab {first[0]:.4f}  nanoGPT {first[1]:.4f} (same weights and data)")
    for k, v in rate.items():
        print(f"{k:8s} {v:12,.0f} tokens/s wall, {cpu_rate[k]:12,.0f} tokens per CPU-second "
              f"(medians of {len(times[k])} steps)")
    print(f"ratio lmlab / nanoGPT: {rate['lmlab'] / rate['nanoGPT']:.2f}x wall, "
          f"{cpu_rate['lmlab'] / cpu_rate['nanoGPT']:.2f}x CPU time (target >= 1.0); "
          f"load average {os.getloadavg()[0]:.1f}")
    if device.type == "cuda":
        peak = 989e12 if "H100" in torch.cuda.get_device_name() or "H200" in torch.cuda.get_device_name() else 312e12
        for k, v in rate.items():
            mfu = ours.flops_per_token(t) * v / peak
            print(f"MFU {k}: {100 * mfu:.1f}% of {peak / 1e12:.0f} TFLOP/s bf16")
    return 0


if __name__ == "__main__":
    sys.exit(main())

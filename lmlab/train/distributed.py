"""Data parallelism through torchrun: the only module of lmlab that touches `torch.distributed`.

    torchrun --nproc_per_node=4 -m lmlab.cli.main train rnn ...       # 4 GPUs, one machine
    torchrun --nnodes=2 --node_rank=0 --master_addr=HOST --nproc_per_node=8 -m lmlab.cli.main ...

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; `setup()` reads them and
joins the process group (NCCL on CUDA, gloo on CPU). Each process takes every WORLD_SIZE-th batch,
`DistributedDataParallel` averages gradients during `backward` (Li et al. 2020, "PyTorch
Distributed"), so N processes with batch B step exactly like one process with batch N*B.
Without those variables everything here is a no-op and training runs in one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits: `rank` of `world_size`, `local_rank` on its machine."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def setup(device_type: str = "cpu") -> DistInfo:
    """Join the process group described by torchrun's environment variables (no-op without them)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    info = DistInfo(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        if device_type == "cuda":
            torch.cuda.set_device(info.local_rank)
        dist.init_process_group(backend=backend, rank=info.rank, world_size=world)
    return info


def local_device(info: DistInfo, device: torch.device) -> torch.device:
    """The device of this process: cuda:LOCAL_RANK under torchrun on GPUs, else `device`."""
    if info.enabled and device.type == "cuda":
        return torch.device("cuda", info.local_rank)
    return device


def wrap(model: torch.nn.Module, info: DistInfo, device: torch.device) -> torch.nn.Module:
    """`DistributedDataParallel(model)` when several processes run, else the model itself."""
    if not info.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside a DDP wrapper (what is saved and evaluated)."""
    return getattr(model, "module", model)


def mean_across(value: float, info: DistInfo) -> float:
    """The mean of a float over all processes (for logging the same loss everywhere)."""
    if not info.enabled:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return float(t.item()) / info.world_size


def any_across(flag: bool, info: DistInfo) -> bool:
    """True if `flag` is true in any process (so all processes stop together)."""
    if not info.enabled:
        return flag
    t = torch.tensor([int(flag)])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def is_main_process() -> bool:
    """Whether this process has rank 0 (or runs alone): the one that saves and prints."""
    return int(os.environ.get("RANK", "0")) == 0


def teardown(info: DistInfo | None = None) -> None:
    """Leave the process group if this process joined one (call once, at the end of the program)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()

"""Data parallelism: two CPU processes (gloo) with batch B step exactly like one with batch 2B."""

from __future__ import annotations

import json
import os
import socket

import pytest
import torch
from torch import nn

from lmlab.train import TrainConfig, Trainer
from lmlab.train.objectives import causal_lm

STEPS = 4


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Embedding(11, 8), nn.Tanh(), nn.Linear(8, 11))


def _batches() -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    return [{"ids": torch.randint(0, 11, (2, 7), generator=g)} for _ in range(2 * STEPS)]


def _config() -> TrainConfig:
    return TrainConfig(max_steps=STEPS, lr=0.05, warmup_steps=1, log_every=1, shuffle=False,
                       device="cpu", tensorboard=False)


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from lmlab.train import distributed

    trainer = Trainer(_model(), causal_lm, _batches(), config=_config())
    history = trainer.fit()
    if rank == 0:
        params = [p.detach().flatten().tolist() for p in trainer.model.parameters()]
        with open(out, "w") as fh:
            json.dump({"losses": history.losses(), "params": params}, fh)
    distributed.teardown(trainer.dist)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_gloo_processes_equal_one_process_with_double_batch(tmp_path):
    from torch import multiprocessing as mp
    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available")
    out = tmp_path / "ddp.json"
    mp.spawn(_worker, args=(2, _free_port(), str(out)), nprocs=2, join=True)
    ddp = json.loads(out.read_text())

    # One process, each batch the concatenation of the two processes' batches of that step.
    small = _batches()
    doubled = [{"ids": torch.cat([small[2 * s]["ids"], small[2 * s + 1]["ids"]])} for s in range(STEPS)]
    trainer = Trainer(_model(), causal_lm, doubled, config=_config())
    single = trainer.fit()
    assert ddp["losses"] == pytest.approx(single.losses(), abs=1e-5)
    for p_ddp, p_one in zip(ddp["params"], trainer.model.parameters(), strict=True):
        torch.testing.assert_close(torch.tensor(p_ddp), p_one.detach().flatten(), atol=1e-5, rtol=1e-5)

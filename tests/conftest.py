"""Shared fixtures: paths to ../shared/data (skipping cleanly when absent) and small helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_path(relative: str) -> Path:
    """Path under ../shared/data, or skip the test when the folder or file is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"../shared/data/{relative} is not available")
    return path


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Every test runs on one torch thread: the models here are tiny and latency-bound, and two
    OpenMP threads stall badly whenever another process holds a core (as on a 2-core CI machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def shared_data():
    """Function returning a path under ../shared/data, skipping when absent."""
    return shared_path

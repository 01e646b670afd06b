"""`lmlab info`: versions, devices and threads: what to paste into a bug report."""

from __future__ import annotations

import argparse
import platform
from typing import Any

from lmlab.cli.common import add_command, emit


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(subparsers, "info", common, help="show versions, devices and threads",
                    example="lmlab info --json")
    p.set_defaults(func=run)


def environment_info() -> dict[str, Any]:
    """Versions of lmlab, Python and the main libraries, and the devices torch can see."""
    from importlib.metadata import version

    import numpy
    import torch

    cuda = torch.cuda.is_available()
    return {
        "lmlab": version("lmlab"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "cuda_available": cuda,
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
        "mps_available": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
        "torch_threads": torch.get_num_threads(),
    }


def run(args: argparse.Namespace) -> int:
    info = environment_info()
    emit(args, info, "\n".join(f"{k:16} {v}" for k, v in info.items()))
    return 0

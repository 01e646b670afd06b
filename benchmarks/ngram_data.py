"""Tokenised Spanish literature for the n-gram benchmarks (one sentence per line, tokens spaced).

Reads the CLIGS novels (../shared/data/spanish_literature/cligs_novela_espanola, paragraphs split
by lines holding one TAB) with the lmlab readers, splits sentences and words with `lmlab.text`,
lower-cases, and writes every 20th sentence to the test file and the rest to the train file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from lmlab.data.corpus import corpus_files, iter_lines
from lmlab.text.sentences import split_sentences
from lmlab.text.words import tokenize

ROOT = Path(__file__).resolve().parents[1]
NOVELS = ROOT.parent / "shared" / "data" / "spanish_literature" / "cligs_novela_espanola"


def paragraphs(file: Path):
    buf: list[str] = []
    for line in iter_lines(file):
        if line.strip():
            buf.append(line.strip())
        elif buf:
            yield " ".join(buf)
            buf = []
    if buf:
        yield " ".join(buf)


def prepare(out_dir: Path, source: Path = NOVELS) -> tuple[Path, Path]:
    """Write train.txt and test.txt under out_dir (skipped when both exist); return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    train, test = out_dir / "train.txt", out_dir / "test.txt"
    if train.exists() and test.exists():
        return train, test
    n = 0
    with open(train, "w", encoding="utf-8") as tr, open(test, "w", encoding="utf-8") as te:
        for file in corpus_files(source):
            if file.suffix != ".txt":
                continue
            for para in paragraphs(file):
                for sent in split_sentences(para):
                    toks = tokenize(sent.lower())
                    if toks:
                        (te if n % 20 == 19 else tr).write(" ".join(toks) + "\n")
                        n += 1
    return train, test


if __name__ == "__main__":
    if not NOVELS.exists():
        sys.exit(f"skipped: {NOVELS} is absent")
    paths = prepare(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/lmlab-ngram-data"))
    for p in paths:
        text = p.read_text(encoding="utf-8")
        print(p, len(text.splitlines()), "sentences", len(re.findall(r"\S+", text)), "tokens")

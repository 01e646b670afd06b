"""The README's Python quickstart runs as written, on the corpus the README says how to make."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch

import lmlab
from lmlab.cli.main import main

README = Path(__file__).resolve().parents[1] / "README.md"


def quickstart_code() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- quickstart -->\s*```python\n(.*?)```", text, re.S)
    assert match, "README.md has no ```python block after <!-- quickstart -->"
    return match.group(1)


@pytest.mark.slow
def test_readme_quickstart_runs_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["world", "generate", "lm", "-o", "corpus.txt", "--n-sentences", "2000"]) == 0
    capsys.readouterr()
    scope: dict = {}
    exec(compile(quickstart_code(), str(README), "exec"), scope)
    printed = capsys.readouterr().out.splitlines()
    text, ppl = printed[0], float(printed[1])
    assert text.strip() and math.isfinite(ppl)
    # Far better than word frequencies alone (a Laplace unigram of the same corpus: ~106).
    unigram = lmlab.NGramLM(order=1, smoothing="add_k").fit(Path("corpus.txt").read_text().splitlines())
    assert ppl < lmlab.perplexity(unigram, ["El perro ladra en la granja ."]).ppl / 4
    model, again = scope["model"], scope["again"]
    ids = torch.tensor([model.tokenizer.encode("El perro ladra").ids])
    assert torch.equal(model(ids), again(ids))
    assert again.tokenizer.get_vocab() == model.tokenizer.get_vocab()

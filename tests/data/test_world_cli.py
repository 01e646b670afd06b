"""`lmlab world generate` and `lmlab world entropy` on small sizes."""

from __future__ import annotations

import json

from lmlab.cli.main import main
from lmlab.data.world import World
from lmlab.data.world.lexicon import COUNTRIES


def test_generate_lm_then_entropy_recovers_the_floor(tmp_path, capsys):
    out = tmp_path / "test.txt"
    assert main(["world", "generate", "lm", "-o", str(out), "--n-tokens", "3000", "--split", "test",
                 "--seed", "5", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    lines = out.read_text(encoding="utf-8").splitlines()
    expected = World(5).lm_sentences(n_tokens=3000, stream="test")
    assert lines == [s.text for s in expected]
    assert summary["n_sentences"] == len(lines) and summary["n_tokens"] >= 3000
    assert main(["world", "entropy", str(out), "--json"]) == 0
    floor = json.loads(capsys.readouterr().out)
    assert floor["bits_per_token"] == summary["floor"]["bits_per_token"]
    assert floor["n_tokens"] == sum(len(line.split()) for line in lines)


def test_generate_lm_by_sentences(tmp_path, capsys):
    out = tmp_path / "lm.txt"
    assert main(["world", "generate", "lm", "-o", str(out), "--n-sentences", "7"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 7
    assert "bits/token" in capsys.readouterr().out


def test_entropy_of_foreign_text_is_a_user_error(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("En Francia se habla francés .\nHola mundo .\n", encoding="utf-8")
    assert main(["world", "entropy", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bad.txt:2" in err
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    assert main(["world", "entropy", str(empty)]) == 2
    assert "empty.txt: no sentences" in capsys.readouterr().err


def test_generate_structured_kinds_write_jsonl(tmp_path, capsys):
    for kind in ("parallel", "topics", "pairs", "reviews", "ner", "qa", "documents", "instructions",
                 "preferences", "images"):
        out = tmp_path / f"{kind}.jsonl"
        assert main(["world", "generate", kind, "-o", str(out), "-n", "4", "--json"]) == 0
        expected = 4 + len(COUNTRIES) if kind == "documents" else 4  # -n people, plus the countries
        assert json.loads(capsys.readouterr().out)["n_items"] == expected
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert len(rows) == expected and all(isinstance(r, dict) for r in rows)
    assert main(["world", "generate", "parallel", "-o", str(tmp_path / "x"), "--n-tokens", "5"]) == 2
    assert "--n-tokens" in capsys.readouterr().err


def test_generate_images_writes_pngs(tmp_path):
    import matplotlib.image

    out = tmp_path / "captions.jsonl"
    assert main(["world", "generate", "images", "-o", str(out), "-n", "3"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    first = matplotlib.image.imread(tmp_path / rows[0]["image"])
    assert first.shape[:2] == (48, 48) and rows[0]["caption_es"].startswith("Hay ")

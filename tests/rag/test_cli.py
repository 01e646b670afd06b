from __future__ import annotations

import json

import pytest

from lmlab.cli.main import main
from lmlab.models.ngram import NGramLM


@pytest.fixture
def corpus(tmp_path, docs):
    folder = tmp_path / "docs"
    folder.mkdir()
    rows = [{"id": d.id, "text": d.text, "title": d.title, **d.metadata} for d in docs]
    (folder / "docs.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                                       encoding="utf-8")
    (folder / "nota.md").write_text("# Nota\n\nEl Sena pasa por París.", encoding="utf-8")
    (folder / "roto.txt").write_bytes("año".encode("latin-1"))
    return folder


def test_index_search_eval_ask_delete_bm25(corpus, tmp_path, capsys):
    idx = tmp_path / "idx"
    assert main(["rag", "index", str(corpus), "-o", str(idx), "--encoder", "none", "--chunk-tokens", "20",
                 "--json"]) == 0
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert data["n_documents"] == 5 and data["encoder"] is None
    assert "roto.txt" in data["skipped"][0]["file"] and "skipped" in out.err

    assert main(["rag", "search", str(idx), "¿Cuál es la capital de Francia?", "-k", "2", "--mode", "bm25",
                 "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits[0]["doc_id"] == "francia" and len(hits) == 2

    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"question": "¿Dónde vive Lucía García?", "doc_ids": ["lucia"]}\n'
                  '{"question": "capital de Perú", "doc_ids": ["peru"]}\n', encoding="utf-8")
    assert main(["rag", "eval", str(idx), str(qa), "--modes", "bm25", "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["bm25"]["recall@1"] == 1.0 and scores["bm25"]["mrr"] == 1.0 and "ndcg@10" in scores["bm25"]

    lm = NGramLM(order=2, smoothing="mle").fit(["París [1] es la capital ."] * 3)
    lm.save(tmp_path / "lm")
    assert main(["rag", "ask", str(idx), "capital de Francia", "--model", str(tmp_path / "lm"), "--mode", "bm25",
                 "--max-new-tokens", "6", "--stream"]) == 0
    assert "fuentes" in capsys.readouterr().out
    assert main(["rag", "ask", str(idx), "xilófono", "--model", str(tmp_path / "lm"), "--mode", "bm25",
                 "--min-score", "0.5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["answer"] == "No encuentro la respuesta en los documentos."

    qa.write_text('{"question": "capital de Francia", "doc_ids": ["francia"], "answers": ["París"]}\n',
                  encoding="utf-8")
    assert main(["rag", "eval", str(idx), str(qa), "--modes", "bm25", "--model", str(tmp_path / "lm"),
                 "--answer-mode", "bm25", "--max-new-tokens", "4", "--json"]) == 0
    answers = json.loads(capsys.readouterr().out)["answers"]
    assert answers["n"] == 1 and 0.0 <= answers["token_f1"] <= 1.0

    assert main(["rag", "delete", str(idx), "francia", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_documents"] == 4


def test_cli_errors_are_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["rag", "index", str(empty), "-o", str(tmp_path / "idx"), "--encoder", "none"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no documents found" in err and len(err.splitlines()) == 1
    assert main(["rag", "search", str(empty), "hola"]) == 2
    assert "not an lmlab RAG index" in capsys.readouterr().err


def test_dense_index_refuses_another_encoder(corpus, tmp_path, capsys):
    idx = tmp_path / "idx"
    assert main(["rag", "index", str(corpus), "-o", str(idx), "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main(["rag", "search", str(idx), "capital de Francia", "--mode", "hybrid", "--json", "--dense-index", "hnsw",
                 "--device", "cpu"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"][0]["doc_id"] == "francia"
    assert main(["rag", "search", str(idx), "hola", "--encoder", "otro-encoder"]) == 2
    err = capsys.readouterr().err
    assert "'all-MiniLM-L6-v2'" in err and "'otro-encoder'" in err

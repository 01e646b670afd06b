"""`lmlab rag`: index documents, search them (BM25, dense, hybrid), answer from them with citations,
and evaluate retrieval (recall@1/5/10, MRR, nDCG@10 per mode, scored per document)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lmlab.cli.common import add_command, add_group, emit, torch_device

DEFAULT_ENCODER = "all-MiniLM-L6-v2"


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "rag", common, help="retrieval-augmented generation over a document index",
                    example='lmlab rag index docs/ -o idx && lmlab rag search idx "¿Dónde vive Lucía?"')
    p = add_command(sub, "index", common, help="build an index folder from text, Markdown and JSONL files",
                    example="lmlab rag index docs/ more.jsonl -o idx --chunk-tokens 120 --overlap 20")
    p.add_argument("docs", nargs="+", help="files or folders (.txt, .md, .jsonl rows {id, text})")
    p.add_argument("-o", "--output", required=True, help="index folder to write (replaced atomically)")
    p.add_argument("--encoder", default=DEFAULT_ENCODER,
                   help=f"sentence encoder name or folder (default {DEFAULT_ENCODER}); 'none' for BM25 only")
    p.add_argument("--analyzer", choices=("spanish", "plain"), default="spanish", help="BM25 analyser")
    p.add_argument("--chunk-mode", choices=("sentences", "tokens"), default="sentences")
    p.add_argument("--chunk-tokens", type=int, default=200, help="word tokens per chunk at most (default 200)")
    p.add_argument("--overlap", type=int, default=0, help="tokens repeated between chunks (default 0)")
    p.add_argument("--add", action="store_true", help="add the documents to an existing index instead")
    p.set_defaults(func=run_index)

    p = add_command(sub, "delete", common, help="delete documents from an index by id",
                    example="lmlab rag delete idx persona-0003")
    p.add_argument("index")
    p.add_argument("doc_ids", nargs="+")
    p.set_defaults(func=run_delete)

    p = add_command(sub, "search", common, help="the best chunks for a query",
                    example='lmlab rag search idx "¿Cuál es la capital de Francia?" -k 5 --mode hybrid')
    _query_options(p)
    p.set_defaults(func=run_search)

    p = add_command(sub, "ask", common, help="answer a question from the index with a language model",
                    example='lmlab rag ask idx "¿Dónde vive Lucía García?" --model runs/gpt --stream')
    _query_options(p)
    p.add_argument("--model", required=True, help="any lmlab language model folder")
    p.add_argument("--min-score", type=float, default=None,
                   help="refuse below this best score (BM25 in bm25 mode, cosine otherwise)")
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--stream", action="store_true", help="print the answer as it is generated")
    p.set_defaults(func=run_ask)

    p = add_command(sub, "eval", common, help="retrieval recall@1/5/10, MRR, nDCG@10 per mode",
                    example="lmlab rag eval idx qa.jsonl --json")
    p.add_argument("index")
    p.add_argument("qa", help='JSONL rows {"question", "doc_ids"}')
    p.add_argument("--modes", default="bm25,dense,hybrid", help="comma-separated modes")
    p.add_argument("--model", default=None,
                   help="a language model: also score answer exact match and token F1 of rows with \"answers\"")
    p.add_argument("--answer-mode", choices=("bm25", "dense", "hybrid"), default="hybrid")
    p.add_argument("--dense-index", choices=("flat", "hnsw"), default="flat")
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.set_defaults(func=run_eval)


def _query_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("index", help="index folder")
    p.add_argument("query", help="the question")
    p.add_argument("-k", type=int, default=5, help="passages (default 5)")
    p.add_argument("--mode", choices=("bm25", "dense", "hybrid"), default="hybrid")
    p.add_argument("--encoder", default=None, help="encoder to query with (must be the index's)")
    p.add_argument("--dense-index", choices=("flat", "hnsw"), default="flat",
                   help="exact search (flat, default) or approximate HNSW for large indexes")


def _encoder(name: str | None, args: argparse.Namespace) -> Any:
    if not name or name == "none":
        return None
    from lmlab.io.packaged import load_sentence_encoder

    return load_sentence_encoder(name).to(torch_device(args))


def _open(args: argparse.Namespace, need_dense: bool = True) -> Any:
    from lmlab.apps.rag import RagIndex

    probe = RagIndex.open(args.index, encoder_name=getattr(args, "encoder", None))
    if not probe.encoder_name or not need_dense:
        return probe
    return RagIndex.open(args.index, _encoder(probe.encoder_name, args), probe.encoder_name,
                         dense_index=getattr(args, "dense_index", "flat"))


def _load_model(args: argparse.Namespace) -> Any:
    from lmlab.io.loading import load

    model = load(args.model)
    return model.to(torch_device(args)) if hasattr(model, "to") else model


def run_index(args: argparse.Namespace) -> int:
    from lmlab.apps.rag import RagIndex, chunk_documents, load_documents

    ingested = load_documents(args.docs)
    for name, why in ingested.skipped:
        print(f"skipped {name}: {why}", file=sys.stderr)
    chunks = chunk_documents(ingested.documents, mode=args.chunk_mode, max_tokens=args.chunk_tokens,
                             overlap=args.overlap)
    if args.add:
        index = RagIndex.open(args.output, encoder_name=None)
        index = RagIndex.open(args.output, _encoder(index.encoder_name, args), index.encoder_name)
    else:
        name = None if args.encoder == "none" else args.encoder
        index = RagIndex(_encoder(name, args), name, analyzer=args.analyzer)
    index.add(chunks)
    index.save(args.output)
    m = index.manifest()
    data = {**m, "path": args.output, "skipped": [{"file": f, "why": w} for f, w in ingested.skipped]}
    emit(args, data, f"{len(ingested.documents)} documents, {len(chunks)} chunks -> {args.output} "
                     f"({m['n_chunks']} chunks in all; encoder {m['encoder']}, analyser {m['analyzer']})")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    index = _open(args)
    removed = index.delete(args.doc_ids)
    index.save(args.index)
    emit(args, {"removed_chunks": removed, **index.manifest()}, f"{removed} chunks removed")
    return 0


def run_search(args: argparse.Namespace) -> int:
    index = _open(args, need_dense=args.mode != "bm25")
    hits = index.search(args.query, args.k, args.mode)
    lines = [f"{i}. [{h.chunk.doc_id} {h.chunk.start}:{h.chunk.end}] {h.score:.4f}  "
             f"{' '.join(h.chunk.text.split())[:100]}" for i, h in enumerate(hits, 1)]
    emit(args, {"query": args.query, "mode": args.mode, "hits": [h.to_json() for h in hits]},
         "\n".join(lines) or "no hits")
    return 0


def run_ask(args: argparse.Namespace) -> int:
    from lmlab.apps.rag import ask

    index = _open(args, need_dense=args.mode != "bm25")
    model = _load_model(args)
    streaming = args.stream and not args.json
    on_text = (lambda t: print(t, end="", flush=True)) if streaming else None
    answer = ask(index, args.query, model, k=args.k, mode=args.mode, min_score=args.min_score,
                 on_text=on_text, max_new_tokens=args.max_new_tokens)
    sources = "\n".join(f"[{n}] {answer.passages[n - 1].chunk.doc_id} ({answer.passages[n - 1].chunk.source})"
                        for n in answer.cited)
    text = ("\n" if streaming else answer.text + "\n") + (f"fuentes:\n{sources}" if sources else "fuentes: ninguna")
    emit(args, answer.to_json(), text)
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from lmlab.apps.rag import evaluate_index, read_qa
    from lmlab.metrics.retrieval import format_scores

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    index = _open(args, need_dense=any(m != "bm25" for m in modes))
    qa = read_qa(args.qa)
    scores: dict[str, Any] = evaluate_index(index, qa, modes)
    lines = [f"{m:7s} {format_scores(s)}" for m, s in scores.items()]
    if args.model:
        from lmlab.apps.rag.evaluate import evaluate_answers

        scores["answers"] = evaluate_answers(index, qa, _load_model(args), mode=args.answer_mode,
                                             max_new_tokens=args.max_new_tokens)
        a = scores["answers"]
        lines.append(f"answers exact match {a['exact_match']:.3f}  token F1 {a['token_f1']:.3f}  (n={a['n']})")
    emit(args, scores, "\n".join(lines))
    return 0

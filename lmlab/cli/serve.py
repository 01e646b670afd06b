"""`lmlab serve`: the OpenAI-compatible API and the playground for lmlab models, on 127.0.0.1.

Serves only the models named at start (a model's id is its folder's name); `--port 0` picks a
free port. The URL is printed once the port is bound.
"""

from __future__ import annotations

import argparse
from typing import Any

from lmlab.cli.common import add_command, torch_device


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(subparsers, "serve", common,
                    help="an OpenAI-compatible server (completions, chat, embeddings) and a web "
                         "playground for language models",
                    example="lmlab serve runs/ngram/model runs/gpt/model --embeddings "
                            "all-MiniLM-L6-v2 --port 0")
    p.add_argument("models", nargs="+", metavar="MODEL",
                   help="model folders (lmlab or Hugging Face) or ARPA files; id = folder name")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = a free one)")
    p.add_argument("--embeddings", metavar="NAME", default=None,
                   help="sentence encoder for /v1/embeddings, e.g. all-MiniLM-L6-v2 or a folder")
    p.add_argument("--chat-template", metavar="NAME", default=None,
                   help="chat template for every model (a built-in name such as chatml, or a "
                        "Jinja file); default: each model's own")
    p.add_argument("--api-key", metavar="KEY", default=None,
                   help="require 'Authorization: Bearer KEY' on /v1/ (default: no key)")
    p.add_argument("--max-concurrent", type=int, default=64, metavar="N",
                   help="generations one model decodes at once; as many more may wait, then 429 "
                        "(default 64)")
    p.add_argument("--max-tokens", type=int, default=512, metavar="N",
                   help="largest max_tokens a request may ask for (default 512)")
    p.add_argument("--log-prompts", action="store_true",
                   help="write prompt text in the logs (default: never)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging
    import os
    from pathlib import Path

    from lmlab.errors import check_range

    check_range("--max-concurrent", args.max_concurrent, 1)
    check_range("--max-tokens", args.max_tokens, 1)
    check_range("--port", args.port, 0, 65535)
    template = args.chat_template
    if template and os.path.isfile(template):
        template = Path(template).read_text(encoding="utf-8")
    if template:
        from lmlab.chat import template_for

        template = template_for(template)  # an unknown name fails before any model loads

    from lmlab.serve import protocol
    from lmlab.serve.app import ServeSettings, create_app
    from lmlab.serve.models import embeddings_id, open_model
    from lmlab.serve.server import bind, url_of
    from lmlab.serve.server import run as run_server

    device = torch_device(args)
    models = [open_model(path, device=device, chat_template=template) for path in args.models]
    encoder = None
    if args.embeddings:
        from lmlab.io.packaged import load_sentence_encoder

        encoder = load_sentence_encoder(args.embeddings).to(device).eval()
    settings = ServeSettings(api_key=args.api_key, max_concurrent=args.max_concurrent,
                             limits=protocol.Limits(max_tokens=args.max_tokens),
                             log_prompts=args.log_prompts)
    app = create_app(models, settings=settings, encoder=encoder,
                     encoder_id=embeddings_id(args.embeddings) if args.embeddings else None)
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        from lmlab.errors import ConfigError

        raise ConfigError(f"cannot listen on {args.host}:{args.port} ({exc.strerror})",
                          where="--port", fix="pick another port, or --port 0 for a free one") from exc
    url = url_of(sock)
    names = ", ".join(m.id for m in models)
    if encoder is not None:
        names += f"; embeddings: {embeddings_id(args.embeddings)}"
    print(f"lmlab serve: {url}  (API {url}/v1, playground {url}/)  models: {names}", flush=True)
    level = "info" if args.verbose > 0 else "warning"
    if args.verbose > 0:
        logging.getLogger("lmlab").setLevel(logging.INFO)
    run_server(app, sock, log_level=level)
    return 0

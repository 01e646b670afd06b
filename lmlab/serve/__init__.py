"""`lmlab serve`: an OpenAI-compatible HTTP API and a web playground for any lmlab model.

    from lmlab.serve import create_app, open_model, BackgroundServer
    app = create_app([open_model("runs/gpt/model")])
    with BackgroundServer(app) as server:          # 127.0.0.1, a free port
        print(server.url)                          # point the `openai` client at server.url + "/v1"

See docs/serve.md. FastAPI and uvicorn are imported only when an app is built or run.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BackgroundServer", "ServeSettings", "ServedModel", "create_app", "open_model"]

_WHERE = {"BackgroundServer": "lmlab.serve.server", "ServeSettings": "lmlab.serve.app",
          "create_app": "lmlab.serve.app", "ServedModel": "lmlab.serve.models",
          "open_model": "lmlab.serve.models"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'lmlab.serve' has no attribute {name!r}")

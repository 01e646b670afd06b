"""Running the app with uvicorn: in the foreground (`lmlab serve`) or in a thread (tests, benchmarks).

`--port 0` binds a free port first, so the URL is known before the server starts. A stop (Ctrl-C,
SIGTERM, `BackgroundServer.stop`) first puts the server in draining mode (new /v1/ requests get
503), lets running streams finish for `grace` seconds, then cancels what is left.
"""

from __future__ import annotations

import socket
import threading
from typing import Any


def bind(host: str = "127.0.0.1", port: int = 8000) -> socket.socket:
    """A listening socket on host:port (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _uvicorn_server(app: Any, *, grace: float, log_level: str) -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            app.state.lmlab.begin_shutdown()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=grace,
                            lifespan="on", access_log=False)
    return Server(config)


def run(app: Any, sock: socket.socket, *, log_level: str = "warning") -> None:
    """Serve `app` on `sock` until interrupted."""
    grace = app.state.lmlab.settings.grace
    _uvicorn_server(app, grace=grace, log_level=log_level).run(sockets=[sock])


class BackgroundServer:
    """The app served from a thread on 127.0.0.1 (a free port unless given)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, *,
                 log_level: str = "warning") -> None:
        self.app = app
        self.sock = bind(host, port)
        self.url = url_of(self.sock)
        self.server = _uvicorn_server(app, grace=app.state.lmlab.settings.grace,
                                      log_level=log_level)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="lmlab-serve-http", daemon=True)

    def start(self, timeout: float = 20.0) -> BackgroundServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 20.0) -> None:
        self.app.state.lmlab.begin_shutdown()
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

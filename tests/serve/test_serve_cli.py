"""`lmlab serve MODEL --port 0`: prints the URL, serves the folder's name as the model id, stops
cleanly on Ctrl-C (SIGINT)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpx

from lmlab.cli.main import main


def test_serve_port_zero_prints_the_url_and_stops_on_sigint(folders):
    proc = subprocess.Popen([sys.executable, "-m", "lmlab.cli.main", "serve",
                             str(folders / "ngram"), str(folders / "gpt"), "--port", "0",
                             "--chat-template", "chatml"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        models = httpx.get(url + "/v1/models", timeout=10).json()["data"]
        assert [m["id"] for m in models] == ["ngram", "gpt"]
        assert all(m["lmlab"]["chat"] for m in models)  # --chat-template applies to every model
        r = httpx.post(url + "/v1/completions", timeout=10,
                       json={"model": "ngram", "prompt": "el niño", "max_tokens": 3})
        assert r.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 130  # lmlab's exit code for an interrupted command


def test_bad_options_are_one_line_errors(folders, capsys):
    assert main(["serve", str(folders / "ngram"), "--max-concurrent", "0"]) == 2
    assert main(["serve", str(folders / "ngram"), "--chat-template", "nope"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(err) == 2 and "--max-concurrent" in err[0] and "chat template" in err[1]

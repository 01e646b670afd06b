"""Tiny served models and servers on free 127.0.0.1 ports, started in-process in a thread.

- `gpt`: a tiny GPT with a word tokenizer and a chat template string, saved to a folder;
- `ngram`: a trigram model saved to a folder;
- `slow`: an n-gram that never ends a text and sleeps at every step (disconnects, 429, 503);
- the packaged all-MiniLM-L6-v2 for /v1/embeddings when it is installed.
"""

from __future__ import annotations

import time

import pytest
import torch

from lmlab.io.packaged import load_sentence_encoder, packaged_model_dir
from lmlab.models.ngram import NGramLM
from lmlab.models.transformer import gpt
from lmlab.serve.app import ServeSettings, create_app
from lmlab.serve.models import ServedModel, open_model
from lmlab.serve.protocol import Limits
from lmlab.serve.server import BackgroundServer
from lmlab.text.tokenizers import train_tokenizer

SENTENCES = ["el niño come una manzana .", "la niña bebe agua .", "el perro come pan .",
             "la niña come una pera .", "user : hola", "assistant : hola , ¿ qué tal ?"]
CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} {% endfor %}"
                 "{% if add_generation_prompt %}assistant :{% endif %}")
ENCODER = "all-MiniLM-L6-v2"


class SlowLM:
    """An n-gram that sleeps `delay` seconds per step and declares no end-of-text id."""

    def __init__(self, inner: NGramLM, delay: float) -> None:
        self.inner, self.delay = inner, delay
        self.vocab_size, self.tokenizer = inner.vocab_size, inner.tokenizer
        self.bos_id, self.eos_id, self.max_seq_len = inner.bos_id, None, None
        self.steps = 0

    def start(self, ids, capacity=None):
        return self.inner.start(ids)

    def step(self, state, ids):
        self.steps += ids.shape[0]
        time.sleep(self.delay)
        return self.inner.step(state, ids)


@pytest.fixture(scope="session")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    tok = train_tokenizer("word", SENTENCES)
    torch.manual_seed(0)
    model = gpt.GPT(gpt.GPTConfig.preset("gpt-tiny", vocab_size=tok.get_vocab_size(),
                                         max_seq_len=64)).eval()
    with torch.no_grad():
        model.tok_emb.weight.mul_(8.0)  # peaked logits: clear greedy winners
    model.tokenizer = tok
    model.chat_template = CHAT_TEMPLATE
    model.save(root / "gpt")
    NGramLM(order=3, smoothing="kneser_ney").fit(SENTENCES).save(root / "ngram")
    return root


def encoder_or_none():
    return load_sentence_encoder(ENCODER) if packaged_model_dir(ENCODER) is not None else None


@pytest.fixture(scope="session")
def encoder():
    return encoder_or_none()


@pytest.fixture(scope="session")
def slow_model(folders):
    return SlowLM(NGramLM.load(folders / "ngram"), delay=0.01)


@pytest.fixture(scope="session")
def server(folders, encoder, slow_model):
    models = [open_model(folders / "gpt"), open_model(folders / "ngram"),
              ServedModel("slow", slow_model)]
    settings = ServeSettings(max_concurrent=8, limits=Limits(max_tokens=5000, max_body_bytes=20_000))
    app = create_app(models, settings=settings, encoder=encoder,
                     encoder_id=ENCODER if encoder is not None else None)
    with BackgroundServer(app) as srv:
        yield srv


@pytest.fixture(scope="session")
def client(server):
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0, timeout=30)

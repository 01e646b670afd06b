"""Documents with topic labels, single-topic or mixtures (for classification and topic models).

A document has a topic mixture (one topic with probability `p_single`, else a Dirichlet mixture
of two), and each sentence draws its topic from the mixture and renders a clause of that topic
(subject, verb, object and place mostly of the topic; see `realize.sample_clause`). The labels
are exact: the mixture, the dominant topic, and the topic of each sentence. Cf. the generative
story of LDA (Blei, Ng & Jordan 2003), here with known parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmlab.data.world import lexicon as lx
from lmlab.data.world.realize import sample_clause

LABELS = lx.TOPICS


@dataclass
class TopicDocument:
    """`text` is the sentences joined by spaces; `topic` the dominant topic of `mixture`."""

    id: str
    text: str
    sentences: list[str]
    topic: str
    mixture: dict[str, float]
    sentence_topics: list[str]


def topic_documents(rng: np.random.Generator, n: int, *, min_sentences: int = 3, max_sentences: int = 8,
                    p_single: float = 0.6) -> list[TopicDocument]:
    docs = []
    for i in range(n):
        k = len(LABELS)
        if rng.random() < p_single:
            weights = np.zeros(k)
            weights[rng.integers(k)] = 1.0
        else:
            pair = rng.choice(k, size=2, replace=False)
            weights = np.zeros(k)
            weights[pair] = rng.dirichlet([2.0, 2.0])
        n_sent = int(rng.integers(min_sentences, max_sentences + 1))
        topics = [LABELS[j] for j in rng.choice(k, size=n_sent, p=weights)]
        sentences = [" ".join(sample_clause(rng, t).es()) for t in topics]
        mixture = {LABELS[j]: round(float(weights[j]), 6) for j in range(k) if weights[j] > 0}
        docs.append(TopicDocument(f"doc-{i:06d}", " ".join(sentences), sentences,
                                  LABELS[int(np.argmax(weights))], mixture, topics))
    return docs

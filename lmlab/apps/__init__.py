"""Applications built on the layers below: the ladder, spelling correction, classification, similarity, translation, RAG, topics, probes."""

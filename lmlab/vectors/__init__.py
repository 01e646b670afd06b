"""Vector spaces of words and texts: counts, TF-IDF, PPMI/SVD, word2vec, similarity, projection."""

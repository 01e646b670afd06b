"""Evaluation metrics: perplexity, classification, BLEU/chrF, retrieval, NER entity F1."""

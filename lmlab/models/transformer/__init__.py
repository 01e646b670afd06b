"""Transformers: attention, positions, layers, KV cache; GPT, BERT and T5-style models."""

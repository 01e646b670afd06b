"""Tiny fixtures for the alignment tests: a character tokenizer and GPT/Llama models (d_model 32)."""

from __future__ import annotations

import pytest
import torch

from lmlab.align import world_examples
from lmlab.models.transformer.gpt import GPT, GPTConfig
from lmlab.models.transformer.llama import Llama, LlamaConfig
from lmlab.train.recipes import fit_tokenizer

ALPACA_WORDS = ("Below is an instruction that describes a task. Write a response that "
                "appropriately completes the request. ### Instruction: Response: system user "
                "assistant [INST] <<SYS>> <</SYS>> [/INST] <|im_start|> <|im_end|>")


@pytest.fixture(scope="session")
def tokenizer():
    texts = [m["content"] for e in world_examples(64) for m in e.messages] + [ALPACA_WORDS]
    tok = fit_tokenizer(texts, "char")
    assert tok.get_vocab_size() < 200
    return tok


def tiny_gpt(tokenizer, **overrides):
    torch.manual_seed(0)
    cfg = GPTConfig(**{"vocab_size": tokenizer.get_vocab_size(), "max_seq_len": 384, "d_model": 32,
                       "n_layers": 2, "n_heads": 4, **overrides})
    return GPT(cfg, tokenizer).eval()


def tiny_llama(tokenizer, **overrides):
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=tokenizer.get_vocab_size(), max_seq_len=384, d_model=32,
                      n_layers=2, n_heads=4, n_kv_heads=2, d_ff=64, **overrides)
    return Llama(cfg, tokenizer).eval()


@pytest.fixture
def gpt(tokenizer):
    return tiny_gpt(tokenizer)


@pytest.fixture
def llama(tokenizer):
    return tiny_llama(tokenizer)

"""Completion-only masking, multi-turn masking, packing and truncation of lmlab.align.sft."""

from __future__ import annotations

import pytest
import torch
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace

from lmlab.align import (
    ChatFormat,
    SFTBatches,
    SFTExample,
    completion_lm,
    completion_loss,
    encode_examples,
    world_examples,
)
from lmlab.errors import ConfigError, DataError

WORDS = ["[PAD]", "[UNK]", "<s>", "</s>", "user", "assistant", ":", "hola", "buenas", "adiós",
         "chao", "system", "sé", "breve"]
SHORT = ("plural", "femenino", "capital", "idioma", "sentimiento")
TEMPLATE = ("{% for m in messages %}{{ m['role'] }} : {{ m['content'] }}"
            "{% if m['role'] == 'assistant' %} {{ eos_token }}{% endif %}{{ '\\n' }}{% endfor %}"
            "{% if add_generation_prompt %}assistant :{% endif %}")


def word_format() -> ChatFormat:
    tok = Tokenizer(WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.pre_tokenizer = Whitespace()
    tok.add_special_tokens(["[PAD]", "<s>", "</s>"])
    return ChatFormat(tok, TEMPLATE, bos_id=2, eos_id=3)


def test_only_the_reply_tokens_are_labelled():
    enc = word_format().encode([{"role": "user", "content": "hola"},
                                {"role": "assistant", "content": "buenas"}])
    assert enc.ids == [2, 4, 6, 7, 5, 6, 8, 3]
    assert enc.labels == [False] * 6 + [True, True]  # "buenas </s>"


def test_multi_turn_masking_labels_every_reply_and_nothing_else():
    fmt = word_format()
    messages = [{"role": "system", "content": "sé breve"}, {"role": "user", "content": "hola"},
                {"role": "assistant", "content": "buenas"}, {"role": "user", "content": "adiós"},
                {"role": "assistant", "content": "chao"}]
    enc = fmt.encode(messages)
    assert enc.ids == [2, 11, 6, 12, 13, 4, 6, 7, 5, 6, 8, 3, 4, 6, 9, 5, 6, 10, 3]
    assert [i for i, lab in zip(enc.ids, enc.labels, strict=True) if lab] == [8, 3, 10, 3]
    # inference reads the same prefix as the same ids
    assert fmt.encode_prompt(messages[:4]) == enc.ids[:17]


@pytest.mark.parametrize("template", ["llama2", "chatml", "alpaca", "zephyr", "mistral", "llama3"])
def test_builtin_templates_label_exactly_the_replies(gpt, template):
    fmt = ChatFormat.for_model(gpt, template)
    messages = [{"role": "user", "content": "Pon la frase en plural."},
                {"role": "assistant", "content": "Los perros"},
                {"role": "user", "content": "Responde con una palabra."},
                {"role": "assistant", "content": "París"}]
    enc = fmt.encode(messages)
    assert fmt.tokenizer.decode(enc.ids, skip_special_tokens=False).replace(" ", "") == \
        ("<s>" if not fmt.render(messages).startswith("<s>") else "") .replace(" ", "") + \
        fmt.render(messages).replace(" ", "")
    replies = [i for i, lab in zip(enc.ids, enc.labels, strict=True) if lab]
    text = fmt.tokenizer.decode(replies, skip_special_tokens=False)
    assert "Los perros" in text and "París" in text
    assert "plural" not in text and "palabra" not in text


def test_loss_counts_only_reply_tokens(gpt):
    fmt = ChatFormat.for_model(gpt, "alpaca")
    enc, _ = encode_examples(world_examples(4), fmt, max_len=None)
    batch = SFTBatches(enc, 4)[0]
    loss, n = completion_loss(gpt, batch)
    assert n == sum(sum(e.labels[1:]) for e in enc)
    logits = gpt(batch["ids"][:, :-1])
    logp = torch.log_softmax(logits.float(), -1).gather(-1, batch["ids"][:, 1:, None])[..., 0]
    manual = -(logp * batch["labels"][:, 1:]).sum() / n
    torch.testing.assert_close(loss, manual)
    _, metrics = completion_lm(gpt, batch)
    assert metrics["n"] == n


@pytest.mark.parametrize("family", ["gpt", "llama"])
def test_packed_loss_equals_the_sum_of_unpacked_ones(tokenizer, family):
    from tests.align.conftest import tiny_gpt, tiny_llama

    model = tiny_gpt(tokenizer) if family == "gpt" else tiny_llama(tokenizer)  # learned / rotary
    fmt = ChatFormat.for_model(model, "zephyr")
    enc, _ = encode_examples(world_examples(24, tasks=SHORT), fmt, max_len=200)
    packed = SFTBatches(enc, 2, pack=True, window=384)
    assert packed.n_examples == len(enc) and len(packed.rows) < len(enc)  # several per row
    with torch.no_grad():
        alone = sum(float(completion_loss(model, SFTBatches([e], 1)[0], reduction="sum")[0])
                    for e in enc)
        together = sum(float(completion_loss(model, b, reduction="sum")[0]) for b in packed.batches)
        padded = sum(float(completion_loss(model, b, reduction="sum")[0])
                     for b in SFTBatches(enc, 5).batches)
    assert together == pytest.approx(alone, rel=1e-5)
    assert padded == pytest.approx(alone, rel=1e-5)


def test_truncation_policies(gpt):
    fmt = ChatFormat.for_model(gpt, "alpaca")
    examples = world_examples(16)
    lengths = [len(fmt.encode(e.messages)) for e in examples]
    limit = sorted(lengths)[len(lengths) // 2]
    kept, report = encode_examples(examples, fmt, max_len=limit, truncation="drop")
    assert len(report.too_long) == sum(n > limit for n in lengths) and report.kept == len(kept)
    assert "longer than the context dropped" in report.summary()
    cut, report = encode_examples(examples, fmt, max_len=limit, truncation="truncate")
    assert all(len(e) <= limit for e in cut) and report.truncated
    with pytest.raises(DataError, match=r"example \d+ has \d+ tokens, more than max_len"):
        encode_examples(examples, fmt, max_len=limit, truncation="error")


def test_rejected_conversations_are_counted_not_fatal(gpt):
    fmt = ChatFormat.for_model(gpt, "llama2")
    good = world_examples(2)
    bad = SFTExample([{"role": "assistant", "content": "x"}, {"role": "assistant", "content": "y"}])
    kept, report = encode_examples([*good, bad], fmt, max_len=None)
    assert len(kept) == 2 and report.invalid[0][0] == 2
    assert "alternate" in report.invalid[0][1]


def test_template_dropping_the_system_message_warns_once(gpt, caplog):
    fmt = ChatFormat(gpt.tokenizer, "{% for m in messages %}{% if m['role'] != 'system' %}"
                     "{{ m['content'] }}{% endif %}{% endfor %}", eos_id=gpt.eos_id)
    conv = [{"role": "system", "content": "sé breve"}, {"role": "user", "content": "hola"},
            {"role": "assistant", "content": "buenas"}]
    with caplog.at_level("WARNING", logger="lmlab"):
        fmt.encode(conv)
        fmt.encode(conv)
    assert sum("drops the system message" in r.message for r in caplog.records) == 1


def test_model_without_template_is_a_one_line_error(gpt):
    with pytest.raises(ConfigError, match=r"no chat template.*--chat-template"):
        ChatFormat.for_model(gpt)

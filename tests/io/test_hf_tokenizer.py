"""Hugging Face tokenizer folders read without transformers: ids equal AutoTokenizer's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from lmlab.errors import ModelFormatError
from lmlab.io.hf_tokenizer import HFTokenizer, encode, read_hf_tokenizer

transformers = pytest.importorskip("transformers")

CORPUS = [
    "¿Dónde está el niño? ¡Mañana vendrá con su pingüino!",
    "El señor Ibáñez come ñoquis en Logroño 🐧🍝 cada año.",
    "Él dijo: «¡Qué día tan bonito!» y sonrió 😀.",
    "La cigüeña vuela sobre el río Guadalquivir.",
] * 4
SENTENCES = [
    "¿Qué tal, niño? ¡Hasta mañana!",
    "El pingüino Ibáñez 🐧 come ñoquis.",
    "Camión, cigüeña, acción 😀 y más",
    "  espacios  dobles y un emoji nuevo 🦙 ",
    "texto con <s> y </s> dentro",
]
CHATML = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + "
          "'<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
          "{% endif %}")


def _llama_style() -> Tokenizer:
    """SentencePiece-like BPE (metaspace) whose post-processor puts <s> first."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=160,
                                                        special_tokens=["<unk>", "<s>", "</s>"]))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    return tok


def _byte_level(specials: list[str]) -> Tokenizer:
    """GPT-2/Qwen-style byte-level BPE, no BOS added."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return tok


def _edit_json(file: Path, **changes) -> None:
    data = json.loads(file.read_text(encoding="utf-8"))
    data.update(changes)
    file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _check_against_transformers(folder: Path) -> tuple[HFTokenizer, object]:
    """Our reading of `folder` agrees with AutoTokenizer's on ids and special tokens."""
    ours = read_hf_tokenizer(folder)
    ref = transformers.AutoTokenizer.from_pretrained(folder)
    for text in SENTENCES:
        assert encode(ours, text) == ref(text)["input_ids"], text
        assert ours.encode(text, add_special_tokens=False) == ref(
            text, add_special_tokens=False)["input_ids"], text
    assert (ours.bos_token, ours.eos_token, ours.pad_token, ours.unk_token) == (
        ref.bos_token, ref.eos_token, ref.pad_token, ref.unk_token)
    assert (ours.bos_id, ours.eos_id, ours.pad_id) == (
        ref.bos_token_id, ref.eos_token_id, ref.pad_token_id)
    # transformers 5 reports add_bos_token=False once loaded; what counts is what it encodes.
    first = ref("hola")["input_ids"][0]
    assert ours.add_bos_token == (ref.bos_token_id is not None and first == ref.bos_token_id)
    if isinstance(ref.chat_template, dict):  # several named templates: ours keeps them all
        assert ours.chat_templates == ref.chat_template
        assert ours.chat_template == ref.chat_template.get("default")
    else:
        assert ours.chat_template == ref.chat_template
    return ours, ref


def test_llama_style_adds_bos(tmp_path):
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=_llama_style(), bos_token="<s>", eos_token="</s>", unk_token="<unk>",
        model_max_length=2048)
    fast.save_pretrained(tmp_path)
    _edit_json(tmp_path / "tokenizer_config.json", add_bos_token=True, add_eos_token=False)
    ours, ref = _check_against_transformers(tmp_path)
    assert ours.add_bos_token and not ours.add_eos_token
    assert encode(ours, "hola")[0] == ours.bos_id == 1
    assert ours.model_max_length == ref.model_max_length == 2048
    assert ours.chat_template is None


def test_bos_is_inferred_from_the_post_processor(tmp_path):
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=_llama_style(), bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    fast.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert "add_bos_token" not in config
    ours, _ = _check_against_transformers(tmp_path)
    assert ours.add_bos_token and not ours.add_eos_token
    assert ours.model_max_length is None  # transformers' int(1e30): no limit


def test_explicit_add_flags_rule_the_post_processor(tmp_path):
    """The config's add_bos_token/add_eos_token win over tokenizer.json, as Llama tokenizers do."""
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=_llama_style(), bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    fast.save_pretrained(tmp_path)
    _edit_json(tmp_path / "tokenizer_config.json", add_bos_token=False, add_eos_token=True)
    ours = read_hf_tokenizer(tmp_path)
    plain = ours.encode("hola", add_special_tokens=False)
    assert (ours.add_bos_token, ours.add_eos_token) == (False, True)
    assert ours.encode("hola") == [*plain, ours.eos_id]


def test_byte_level_chatml_style(tmp_path):
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=_byte_level(["<|endoftext|>", "<|im_start|>", "<|im_end|>"]),
        eos_token="<|im_end|>", pad_token="<|endoftext|>", chat_template=CHATML)
    fast.save_pretrained(tmp_path)
    ours, ref = _check_against_transformers(tmp_path)
    assert ours.bos_token is None and ours.bos_id is None and not ours.add_bos_token
    assert ours.eos_id == ref.convert_tokens_to_ids("<|im_end|>")
    assert ours.pad_id == ref.convert_tokens_to_ids("<|endoftext|>") == 0
    assert ours.chat_template == CHATML
    if (tmp_path / "chat_template.jinja").is_file():  # transformers >= 4.50 writes the template there
        assert (tmp_path / "chat_template.jinja").read_text(encoding="utf-8") == ours.chat_template
    ids = ours.encode("<|im_start|>user\n¡Hola!<|im_end|>\n")
    assert ids[0] == ref.convert_tokens_to_ids("<|im_start|>")


def test_gpt2_style_endoftext_is_bos_and_eos(tmp_path):
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=_byte_level(["<|endoftext|>"]), bos_token="<|endoftext|>",
        eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    fast.save_pretrained(tmp_path)
    ours, _ = _check_against_transformers(tmp_path)
    assert ours.bos_id == ours.eos_id == 0 and not ours.add_bos_token and not ours.add_eos_token


def test_special_tokens_as_dicts_in_special_tokens_map(tmp_path):
    """An older folder: tokenizer.json + special_tokens_map.json with {"content": ...} entries."""
    tok = _llama_style()
    tok.save(str(tmp_path / "tokenizer.json"))
    entry = {"lstrip": False, "normalized": False, "rstrip": False, "single_word": False}
    (tmp_path / "special_tokens_map.json").write_text(json.dumps({
        "bos_token": {"content": "<s>", **entry},
        "eos_token": {"content": "</s>", **entry},
        "unk_token": {"content": "<unk>", **entry},
        "pad_token": {"content": "<pad>", **entry},  # not in tokenizer.json: both add it
    }), encoding="utf-8")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512,
        "chat_template": [{"name": "default", "template": CHATML},
                          {"name": "tool_use", "template": "{{ tools | tojson }}"}],
    }), encoding="utf-8")
    ours, ref = _check_against_transformers(tmp_path)
    assert ours.pad_id == ref.pad_token_id == tok.get_vocab_size()
    assert ours.encode("a <pad> b", add_special_tokens=False) == ref(
        "a <pad> b", add_special_tokens=False)["input_ids"]
    assert ours.model_max_length == 512
    assert ours.chat_templates == {"default": CHATML, "tool_use": "{{ tools | tojson }}"}


def test_chat_template_file_wins_over_the_config(tmp_path):
    tok = _llama_style()
    tok.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(
        {"bos_token": "<s>", "eos_token": "</s>", "chat_template": "{{ 'old' }}"}), encoding="utf-8")
    (tmp_path / "chat_template.jinja").write_text(CHATML, encoding="utf-8")
    ours, _ = _check_against_transformers(tmp_path)
    assert ours.chat_template == CHATML


def test_folder_without_tokenizer_json_gives_none(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text("{}", encoding="utf-8")
    assert read_hf_tokenizer(tmp_path) is None
    with pytest.raises(ModelFormatError, match="not found"):
        read_hf_tokenizer(tmp_path / "missing")


@pytest.mark.parametrize("name", ["tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"])
def test_corrupted_files_give_one_line_errors(tmp_path, name):
    _llama_style().save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "tokenizer_config.json").write_text('{"bos_token": "<s>"}', encoding="utf-8")
    (tmp_path / "special_tokens_map.json").write_text('{"eos_token": "</s>"}', encoding="utf-8")
    (tmp_path / name).write_text('{"bos_token": "<s>", ', encoding="utf-8")
    with pytest.raises(ModelFormatError) as info:
        read_hf_tokenizer(tmp_path)
    message = str(info.value)
    assert name in message and "\n" not in message


def test_bad_special_token_entry(tmp_path):
    _llama_style().save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "tokenizer_config.json").write_text('{"bos_token": 3}', encoding="utf-8")
    with pytest.raises(ModelFormatError, match="bos_token"):
        read_hf_tokenizer(tmp_path)

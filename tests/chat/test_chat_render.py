"""Chat rendering: identical to transformers' apply_chat_template, one-line errors, a sandbox."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer, models

from lmlab.chat import TEMPLATES, render, template_for, validate_messages
from lmlab.chat.render import _compile
from lmlab.chat.templates import TEMPLATE_TOKENS
from lmlab.errors import ConfigError, DataError

transformers = pytest.importorskip("transformers")

SYSTEM_USER = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is a bigram?"},
]
MULTI_TURN = [
    {"role": "user", "content": "Hi there"},
    {"role": "assistant", "content": "Hello! How can I help?"},
    {"role": "user", "content": "  Tell me a joke.  "},
]
SPANISH = [
    {"role": "system", "content": "Eres un asistente que habla español de España."},
    {"role": "user", "content": "¿Cómo se dice «pingüino» en inglés? ¡Gracias! 🐧"},
    {"role": "assistant", "content": "Se dice «penguin». ¿Algo más, señor Ibáñez? 😀"},
    {"role": "user", "content": "¡Sí! ¿Y «año»?\n"},
]
CONVERSATIONS = {"system_user": SYSTEM_USER, "multi_turn": MULTI_TURN, "spanish": SPANISH}
LLAMA2_COURSE = [
    {"role": "system", "content": "Eres un asistente amable."},
    {"role": "user", "content": "¿Qué es un n-grama?"},
    {"role": "assistant", "content": "Una secuencia de n palabras."},
    {"role": "user", "content": "¿Y un bigrama?"},
]


def _hf_tokenizer(template: str, bos: str | None, eos: str | None):
    """A transformers fast tokenizer carrying `template` and these special tokens."""
    specials = [t for t in ("<unk>", bos, eos) if t]
    vocab = {tok: i for i, tok in enumerate(dict.fromkeys([*specials, "hola", "mundo"]))}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token=bos, eos_token=eos, unk_token="<unk>",
        chat_template=template)


@pytest.mark.parametrize("add_generation_prompt", [False, True])
@pytest.mark.parametrize("conversation", list(CONVERSATIONS))
@pytest.mark.parametrize("name", list(TEMPLATES))
def test_builtin_templates_equal_transformers(name, conversation, add_generation_prompt):
    messages = CONVERSATIONS[conversation]
    tokens = TEMPLATE_TOKENS[name]
    bos, eos = tokens["bos_token"] or None, tokens["eos_token"] or None
    ref = _hf_tokenizer(TEMPLATES[name], bos, eos)
    expected = ref.apply_chat_template(messages, tokenize=False,
                                       add_generation_prompt=add_generation_prompt)
    assert render(messages, name, add_generation_prompt=add_generation_prompt) == expected
    assert render(messages, TEMPLATES[name], add_generation_prompt=add_generation_prompt,
                  bos_token=tokens["bos_token"], eos_token=tokens["eos_token"]) == expected


def test_llama2_course_format_exactly():
    assert render(LLAMA2_COURSE, "llama2") == (
        "<s>[INST] <<SYS>>\nEres un asistente amable.\n<</SYS>>\n\n¿Qué es un n-grama? [/INST]"
        " Una secuencia de n palabras. </s><s>[INST] ¿Y un bigrama? [/INST]")
    assert render(LLAMA2_COURSE[1:2], "llama2") == "<s>[INST] ¿Qué es un n-grama? [/INST]"
    assert render(LLAMA2_COURSE[1:2], "llama2", bos_token="<bos>") == (
        "<bos>[INST] ¿Qué es un n-grama? [/INST]")


def test_other_builtin_formats_by_example():
    hola = [{"role": "user", "content": "Hola"}]
    assert render(hola, "chatml", add_generation_prompt=True) == (
        "<|im_start|>user\nHola<|im_end|>\n<|im_start|>assistant\n")
    assert render(hola, "llama3", add_generation_prompt=True) == (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHola<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert render(MULTI_TURN[:2], "mistral") == (
        "<s>[INST] Hi there [/INST]Hello! How can I help?</s>")
    assert render(SYSTEM_USER, "zephyr", add_generation_prompt=True) == (
        "<|system|>\nYou are a helpful assistant.</s>\n<|user|>\nWhat is a bigram?</s>\n"
        "<|assistant|>\n")
    assert render(hola, "alpaca", add_generation_prompt=True).endswith(
        "\n\n### Instruction:\nHola\n\n### Response:\n")


# Templates that exercise the environment transformers builds: whitespace control, loop controls,
# namespace, dict, tojson, the generation tag, tools/documents, extra variables, reasoning aliases.
FEATURES = {
    "blocks": ("{% for m in messages %}\n    {% if m.role == 'user' %}\n  U: {{ m.content }}\n"
               "    {% else %}\n  A: {{ m.content }}\n    {% endif %}\n{% endfor %}\n"),
    "loopcontrols": ("{% for m in messages %}{% if loop.index0 == 1 %}{% continue %}{% endif %}"
                     "{{ m.content }}|{% if loop.index0 == 2 %}{% break %}{% endif %}{% endfor %}"),
    "namespace": ("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
                  "{% endfor %}{{ ns.n }}"),
    "tojson": "{{ messages | tojson }}|{{ messages[0] | tojson(indent=2, sort_keys=true) }}",
    "dict": "{{ dict(a=1, b=messages[0].role) | tojson }}{{ dict.fromkeys(['x']) | tojson }}",
    "generation": ("{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}"
                   "{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}"),
    "variables": ("{{ tools is none }} {{ documents is none }} {{ bos_token }} {{ eos_token }} "
                  "{{ enable_thinking | default('unset') }} {{ add_generation_prompt }}"),
    "year": "{{ strftime_now('%Y') }}",
    "dropped_none": "{% for m in messages %}{{ m.name is defined }}{% endfor %}",
    "reasoning": "{% for m in messages %}{{ m.thinking }}/{{ m.reasoning_content }};{% endfor %}",
    "html": "{{ '<b>' ~ messages[0].content ~ '</b>' }}",
}
FEATURE_MESSAGES = [
    {"role": "user", "content": "¿Qué <tal>? \"comillas\" & ñ 🐧", "name": None},
    {"role": "assistant", "content": "¡Bien!", "reasoning_content": "pensando…"},
    {"role": "user", "content": "Adiós"},
    {"role": "assistant", "content": "Chao"},
]


@pytest.mark.parametrize("add_generation_prompt", [False, True])
@pytest.mark.parametrize("feature", list(FEATURES))
def test_environment_equals_transformers(feature, add_generation_prompt):
    ref = _hf_tokenizer(FEATURES[feature], "<s>", "</s>")
    expected = ref.apply_chat_template(FEATURE_MESSAGES, tokenize=False,
                                       add_generation_prompt=add_generation_prompt)
    assert render(FEATURE_MESSAGES, FEATURES[feature], bos_token="<s>", eos_token="</s>",
                  add_generation_prompt=add_generation_prompt) == expected


def test_tools_and_extra_variables_equal_transformers():
    template = ("{% if tools %}{% for t in tools %}{{ t | tojson }}\n{% endfor %}{% endif %}"
                "{{ messages[-1].content }}{{ ' think' if enable_thinking else '' }}")
    tools = [{"type": "function", "function": {"name": "tiempo", "description": "El tiempo en Logroño",
                                               "parameters": {"type": "object", "properties": {}}}}]
    ref = _hf_tokenizer(template, "<s>", "</s>")
    expected = ref.apply_chat_template(SPANISH, tools=tools, tokenize=False, enable_thinking=True)
    assert render(SPANISH, template, tools=tools, enable_thinking=True) == expected


def test_each_template_compiles_once():
    _compile.cache_clear()
    for _ in range(3):
        render(SPANISH, "chatml")
        render(SPANISH, "llama2")
    assert _compile.cache_info().misses == 2


def _one_line_error(kind, messages, template, **kwargs) -> str:
    with pytest.raises(kind) as info:
        render(messages, template, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_non_alternating_roles_give_the_templates_error():
    bad = [*SPANISH[:2], {"role": "user", "content": "¿Hola?"}]
    message = _one_line_error(DataError, bad, "llama2")
    assert "Conversation roles must alternate" in message
    assert "message 2 (user)" in message
    message = _one_line_error(DataError, [{"role": "assistant", "content": "Hola"}], "mistral")
    assert "Conversation roles must alternate" in message and "message 0 (assistant)" in message


def test_raise_exception_text_becomes_one_line():
    template = "{{ raise_exception('primera línea\nsegunda línea') }}"
    message = _one_line_error(DataError, SYSTEM_USER, template)
    assert "primera línea segunda línea" in message


def test_roles_outside_the_format_are_refused():
    tool = [*MULTI_TURN[:2], {"role": "tool", "content": "42"}]
    assert "tool" in _one_line_error(DataError, tool, "zephyr")
    late_system = [*MULTI_TURN[:1], *SYSTEM_USER]  # a system message after the first turn
    assert "message 1 (system)" in _one_line_error(DataError, late_system, "llama2")


@pytest.mark.parametrize(("messages", "needle"), [
    ([{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}], "message 1 has the unknown role 'robot'"),
    ([{"role": "user", "content": "a"}, {"role": "assistant"}], "message 1 (assistant) has no content"),
    ([{"content": "a"}], "message 0 has no role"),
    ([{"role": "user", "content": ["a"]}], "message 0 (user) has a list content"),
    (["hola"], "message 0 is a str"),
    ([], "empty"),
    ("hola", "list of dicts"),
])
def test_malformed_messages_name_the_index(messages, needle):
    assert needle in _one_line_error(DataError, messages, "chatml")


def test_tool_calls_may_stand_without_content():
    calls = [{"type": "function", "function": {"name": "f", "arguments": {}}}]
    checked = validate_messages([{"role": "user", "content": "a"},
                                 {"role": "assistant", "content": None, "tool_calls": calls}])
    assert checked[1] == {"role": "assistant", "tool_calls": calls}


def test_unknown_template_name_lists_the_known_ones():
    message = _one_line_error(ConfigError, SYSTEM_USER, "llama9")
    assert "llama9" in message and all(name in message for name in TEMPLATES)
    assert template_for("ChatML") == TEMPLATES["chatml"]
    assert template_for("{{ messages[0].content }}") == "{{ messages[0].content }}"


def test_template_that_does_not_parse():
    message = _one_line_error(ConfigError, SYSTEM_USER, "{% for m in messages %}{{ m.content }}")
    assert "does not parse" in message


@pytest.mark.parametrize("template", [
    "{{ messages.__class__.__mro__ }}",
    "{{ messages[0].content.__class__.__subclasses__() }}",
    "{% set ns = namespace(__x=1) %}{{ ns }}",
    "{{ messages.append(1) }}",
])
def test_sandbox_refuses_unsafe_access(template):
    message = _one_line_error(ConfigError, SYSTEM_USER, template)
    assert "sandbox" in message


def test_other_template_failures_are_config_errors():
    message = _one_line_error(ConfigError, SYSTEM_USER, "{{ messages[5].content.upper() }}")
    assert "UndefinedError" in message

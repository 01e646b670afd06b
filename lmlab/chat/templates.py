"""Built-in chat templates (Jinja sources) for models whose tokenizer ships none.

Each renders the published prompt format of its family through `lmlab.chat.render`; the
special tokens come from the caller (`bos_token`, `eos_token`), else from `TEMPLATE_TOKENS`.
Encode a rendered conversation with `add_special_tokens=False`: the templates that need a BOS
write it themselves.

- llama2: `<s>[INST] <<SYS>>\\n{system}\\n<</SYS>>\\n\\n{user} [/INST] {reply} </s><s>[INST] {user} [/INST]`
  (Meta's reference chat format; contents stripped; roles must alternate after the system message).
- llama3: `<|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\\n\\n{content}<|eot_id|>`...
- chatml: `<|im_start|>{role}\\n{content}<|im_end|>\\n`... (Qwen, SmolLM; no default system message).
- mistral: `<s>[INST] {user} [/INST]{reply}</s>[INST] ...`; a system message joins the first user
  message as `{system}\\n\\n{user}`.
- zephyr: `<|{role}|>\\n{content}</s>\\n`...; generation prompt `<|assistant|>\\n`.
- alpaca: `{system or the Alpaca preamble}\\n\\n### Instruction:\\n{user}\\n\\n### Response:\\n{reply}</s>\\n\\n`.
"""

from __future__ import annotations

from lmlab.errors import ConfigError

# Shared opening of the templates that take an optional first system message.
_SPLIT_SYSTEM = (
    "{%- if messages[0]['role'] == 'system' -%}\n"
    "{%- set system = messages[0]['content'] -%}\n"
    "{%- set turns = messages[1:] -%}\n"
    "{%- else -%}\n"
    "{%- set system = none -%}\n"
    "{%- set turns = messages -%}\n"
    "{%- endif -%}\n"
)

_ALTERNATE = (
    "{%- if (m['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n"
    "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/... "
    "after an optional first system message') -}}\n"
    "{%- endif -%}\n"
)


def _only_user_assistant(family: str) -> str:
    return ("{%- else -%}\n"
            f"{{{{- raise_exception('{family} chat accepts a first system message, then user and "
            "assistant messages only, not ' ~ m['role']) -}}\n")


LLAMA2 = (
    _SPLIT_SYSTEM
    + "{%- for m in turns -%}\n"
    + _ALTERNATE
    + "{%- if m['role'] == 'user' -%}\n"
    "{%- if loop.first and system is not none -%}\n"
    "{%- set text = '<<SYS>>\\n' ~ system ~ '\\n<</SYS>>\\n\\n' ~ m['content'] -%}\n"
    "{%- else -%}\n"
    "{%- set text = m['content'] -%}\n"
    "{%- endif -%}\n"
    "{{- bos_token ~ '[INST] ' ~ text | trim ~ ' [/INST]' -}}\n"
    "{%- elif m['role'] == 'assistant' -%}\n"
    "{{- ' ' ~ m['content'] | trim ~ ' ' ~ eos_token -}}\n"
    + _only_user_assistant("Llama-2")
    + "{%- endif -%}\n"
    "{%- endfor -%}\n"
)

LLAMA3 = (
    "{%- for m in messages -%}\n"
    "{%- if loop.first -%}{{- bos_token -}}{%- endif -%}\n"
    "{{- '<|start_header_id|>' ~ m['role'] ~ '<|end_header_id|>\\n\\n' ~ m['content'] | trim"
    " ~ '<|eot_id|>' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n"
    "{%- endif -%}\n"
)

CHATML = (
    "{%- for m in messages -%}\n"
    "{{- '<|im_start|>' ~ m['role'] ~ '\\n' ~ m['content'] ~ '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "{{- '<|im_start|>assistant\\n' -}}\n"
    "{%- endif -%}\n"
)

MISTRAL = (
    _SPLIT_SYSTEM
    + "{{- bos_token -}}\n"
    "{%- for m in turns -%}\n"
    + _ALTERNATE
    + "{%- if m['role'] == 'user' -%}\n"
    "{%- if loop.first and system is not none -%}\n"
    "{%- set text = system ~ '\\n\\n' ~ m['content'] -%}\n"
    "{%- else -%}\n"
    "{%- set text = m['content'] -%}\n"
    "{%- endif -%}\n"
    "{{- '[INST] ' ~ text ~ ' [/INST]' -}}\n"
    "{%- elif m['role'] == 'assistant' -%}\n"
    "{{- m['content'] ~ eos_token -}}\n"
    + _only_user_assistant("Mistral")
    + "{%- endif -%}\n"
    "{%- endfor -%}\n"
)

ZEPHYR = (
    "{%- for m in messages -%}\n"
    "{%- if m['role'] not in ('system', 'user', 'assistant') -%}\n"
    "{{- raise_exception('Zephyr chat accepts system, user and assistant messages only, not '"
    " ~ m['role']) -}}\n"
    "{%- endif -%}\n"
    "{{- '<|' ~ m['role'] ~ '|>\\n' ~ m['content'] ~ eos_token ~ '\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "{{- '<|assistant|>\\n' -}}\n"
    "{%- endif -%}\n"
)

ALPACA_PREAMBLE = ("Below is an instruction that describes a task. "
                   "Write a response that appropriately completes the request.")

ALPACA = (
    _SPLIT_SYSTEM
    + "{{- bos_token ~ (system if system is not none else '" + ALPACA_PREAMBLE + "') ~ '\\n\\n' -}}\n"
    "{%- for m in turns -%}\n"
    "{%- if m['role'] == 'user' -%}\n"
    "{{- '### Instruction:\\n' ~ m['content'] ~ '\\n\\n' -}}\n"
    "{%- elif m['role'] == 'assistant' -%}\n"
    "{{- '### Response:\\n' ~ m['content'] ~ eos_token ~ '\\n\\n' -}}\n"
    + _only_user_assistant("Alpaca")
    + "{%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "{{- '### Response:\\n' -}}\n"
    "{%- endif -%}\n"
)

TEMPLATES: dict[str, str] = {
    "llama2": LLAMA2,
    "llama3": LLAMA3,
    "chatml": CHATML,
    "mistral": MISTRAL,
    "zephyr": ZEPHYR,
    "alpaca": ALPACA,
}

# The special tokens each built-in template is written for (used when the caller passes none).
TEMPLATE_TOKENS: dict[str, dict[str, str]] = {
    "llama2": {"bos_token": "<s>", "eos_token": "</s>"},
    "llama3": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "chatml": {"bos_token": "", "eos_token": "<|im_end|>"},
    "mistral": {"bos_token": "<s>", "eos_token": "</s>"},
    "zephyr": {"bos_token": "", "eos_token": "</s>"},
    "alpaca": {"bos_token": "", "eos_token": "</s>"},
}

_JINJA_MARKS = ("{{", "{%", "{#")


def builtin_name(name_or_source: str) -> str | None:
    """The built-in template's name for `name_or_source` (case-insensitive), or None."""
    key = name_or_source.strip().lower()
    return key if key in TEMPLATES and "\n" not in name_or_source else None


def template_for(name_or_source: str) -> str:
    """The Jinja source for a built-in template name, or `name_or_source` itself when it is Jinja.

    Raises:
        ConfigError: not a string, or a name that is no built-in template (the known ones are listed).
    """
    if not isinstance(name_or_source, str):
        raise ConfigError(f"a chat template is a name or a Jinja string, not a "
                          f"{type(name_or_source).__name__}", where="chat template",
                          fix=f"use one of {', '.join(TEMPLATES)} or a Jinja source")
    name = builtin_name(name_or_source)
    if name is not None:
        return TEMPLATES[name]
    if any(mark in name_or_source for mark in _JINJA_MARKS):
        return name_or_source
    raise ConfigError(f"unknown chat template {name_or_source!r}", where="chat template",
                      fix=f"use one of {', '.join(TEMPLATES)}, or pass a Jinja template source")

"""Render a conversation through a Jinja chat template, exactly as transformers does.

The environment matches transformers' `apply_chat_template`: an `ImmutableSandboxedEnvironment`
with `trim_blocks`, `lstrip_blocks` and the `loopcontrols` extension, a `{% generation %}` tag
(rendered as its body), the globals `raise_exception`, `strftime_now`, a `dict` constructor
and a `namespace` that refuses underscore names, and a `tojson` filter that keeps non-ASCII and
HTML characters as they are. The template sees `messages`, `tools`, `documents`,
`add_generation_prompt`, the special tokens and any extra variables, all as plain JSON data.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar, Literal, NotRequired, TypedDict

from lmlab.chat.templates import TEMPLATE_TOKENS, builtin_name, template_for
from lmlab.errors import ConfigError, DataError, require

ROLES = ("system", "user", "assistant", "tool")
# Names a message's reasoning may come under; templates read the first (transformers aliases them).
_REASONING_KEYS = ("reasoning_content", "thinking", "reasoning")


class Message(TypedDict):
    """One chat message: a role and its text (tool calls and other keys pass through)."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    name: NotRequired[str]
    tool_calls: NotRequired[list[dict[str, Any]]]
    tool_call_id: NotRequired[str]


def validate_messages(messages: Any) -> list[dict[str, Any]]:
    """Check a conversation and return it as plain dicts, keys whose value is None dropped.

    Each message is a mapping with a role in `ROLES` and a str `content` (an assistant message
    that carries `tool_calls` may leave `content` out).

    Raises:
        DataError: the conversation is empty or not a list, or a message is malformed (its index named).
    """
    if isinstance(messages, str | bytes | Mapping) or not isinstance(messages, Sequence):
        raise DataError(f"messages must be a list of dicts, not a {type(messages).__name__}",
                        where="messages", fix='pass [{"role": "user", "content": "..."}, ...]')
    if not messages:
        raise DataError("the conversation is empty", where="messages",
                        fix='pass at least one message, e.g. [{"role": "user", "content": "Hola"}]')
    checked = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, Mapping):
            raise DataError(f"message {i} is a {type(message).__name__}, not a dict", where=where,
                            fix='write each message as {"role": ..., "content": ...}')
        message = {key: value for key, value in message.items() if value is not None}
        role = message.get("role")
        if role not in ROLES:
            what = "has no role" if role is None else f"has the unknown role {role!r}"
            raise DataError(f"message {i} {what}", where=where,
                            fix=f"use one of {', '.join(ROLES)}")
        if "content" not in message:
            if not (role == "assistant" and message.get("tool_calls")):
                raise DataError(f"message {i} ({role}) has no content", where=where,
                                fix='add "content": "..." (a string)')
        elif not isinstance(message["content"], str):
            raise DataError(f"message {i} ({role}) has a {type(message['content']).__name__} "
                            "content, not a str", where=where, fix="pass the message text as a string")
        checked.append(message)
    return checked


def render(messages: Sequence[Mapping[str, Any]], template: str, *,
           add_generation_prompt: bool = False, bos_token: str | None = None,
           eos_token: str | None = None, tools: Sequence[Mapping[str, Any]] | None = None,
           **extra: Any) -> str:
    """The conversation as one prompt string, as `apply_chat_template(..., tokenize=False)` gives.

    Args:
        messages: `[{"role": ..., "content": ...}, ...]` (see `validate_messages`).
        template: a Jinja source, or a built-in name (`lmlab.chat.TEMPLATES`).
        add_generation_prompt: end with the header that opens the assistant's reply.
        bos_token, eos_token: the tokenizer's special tokens; None gives the built-in template's
            own (`TEMPLATE_TOKENS`), or "" for a template source.
        tools: JSON schemas of the functions the model may call, for templates that use them.
        **extra: more template variables (`pad_token`, `documents`, `enable_thinking`, ...).

    Raises:
        DataError: a malformed message, or the template rejected the conversation (raise_exception).
        ConfigError: an unknown template name, a template that does not parse or fails to render.
    """
    chat = _alias_reasoning(validate_messages(messages))
    source = template_for(template)
    name = builtin_name(template)
    defaults = TEMPLATE_TOKENS.get(name, {}) if name else {}
    if bos_token is None:
        bos_token = defaults.get("bos_token", "")
    if eos_token is None:
        eos_token = defaults.get("eos_token", "")
    if tools is not None and (isinstance(tools, str | Mapping) or not isinstance(tools, Sequence)
                              or not all(isinstance(t, Mapping) for t in tools)):
        raise DataError("tools must be a list of JSON schemas (dicts)", where="tools",
                        fix='pass [{"type": "function", "function": {...}}, ...]')
    variables = _plain({"bos_token": bos_token, "eos_token": eos_token, **extra})
    variables.setdefault("documents", None)
    variables.update(tools=_plain(list(tools)) if tools is not None else None,
                     add_generation_prompt=add_generation_prompt)
    compiled = _compile(source)
    try:
        return compiled.render(messages=_plain(chat), **variables)
    except Exception as exc:  # the template is untrusted code: any failure is reported, one line
        raise _render_error(compiled, chat, variables, exc) from exc


def _render_error(compiled: Any, chat: list[dict[str, Any]], variables: dict[str, Any],
                  exc: Exception) -> Exception:
    """A one-line error for a failed render, naming the first message whose turn fails."""
    import jinja2

    text = _one_line(str(exc)) or type(exc).__name__
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    culprit = ""
    for k in range(1, len(chat) + 1):  # the shortest prefix of the conversation that fails alike
        if k < len(chat):
            try:
                compiled.render(messages=_plain(chat[:k]), **variables)
                continue
            except Exception as again:
                if type(again) is not type(exc) or str(again) != str(exc):
                    continue
        if k > 1 or type(exc) is jinja2.TemplateError:  # else it may fail whatever the messages
            culprit = f" at message {k - 1} ({chat[k - 1]['role']})"
        break
    if type(exc) is jinja2.TemplateError:  # raise_exception: the template refuses the conversation
        return DataError(f"the chat template rejected the conversation{culprit}: {text}",
                         where="chat template", fix="change the messages to the form the template accepts")
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return ConfigError(f"the chat template did something the sandbox forbids{culprit}: {text}",
                           where="chat template", fix="use a trusted template without such access")
    return ConfigError(f"the chat template failed{culprit}: {type(exc).__name__}: {text}",
                       where="chat template", fix="fix the template or pass the variables it expects")


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text).strip()


def _plain(value: Any) -> Any:
    """Only JSON-like data reaches the template: str/int/float/bool/None, dicts, lists, tuples.

    Subclasses become their base type, numpy scalars Python numbers, dataclasses and pydantic
    models dicts, and anything else the inert text `<TypeName>` (as transformers does).
    """
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, str):  # subclasses (enums ...) could carry methods: keep the text only
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.generic):
        return _plain(value.item())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if callable(getattr(value, "model_dump", None)):  # pydantic
        return _plain(value.model_dump())
    return f"<{type(value).__name__}>"


def _alias_reasoning(chat: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy a message's reasoning under `reasoning_content` and `thinking`, as transformers does."""
    out = []
    for message in chat:
        reasoning = next((message[k] for k in _REASONING_KEYS if message.get(k) is not None), None)
        if reasoning is not None:
            message = {"thinking": reasoning, **message, "reasoning_content": reasoning}
        out.append(message)
    return out


@lru_cache(maxsize=64)
def _compile(source: str) -> Any:
    """Parse a template once (per source string) in the sandboxed chat environment."""
    jinja2 = require("jinja2", "rendering chat templates")
    try:
        return _environment().from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"the chat template does not parse (line {exc.lineno}: "
                          f"{_one_line(exc.message or str(exc))})", where="chat template",
                          fix="fix the Jinja syntax of the template") from exc


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2
    from jinja2 import nodes
    from jinja2.ext import Extension, loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class GenerationTag(Extension):
        """`{% generation %}...{% endgeneration %}` marks the assistant's text; it renders as is."""

        tags: ClassVar[set[str]] = {"generation"}

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

        def _body(self, caller: Any) -> str:
            return caller()

    class Namespace(jinja2.utils.Namespace):
        """Jinja's `namespace`, refusing attribute names that start with an underscore."""

        def __init__(*args: Any, **kwargs: Any) -> None:  # `self` may be a key, as in jinja
            self, args = args[0], args[1:]
            attrs = dict(*args, **kwargs)
            for key in attrs:
                Namespace._check(key)
            jinja2.utils.Namespace.__init__(self, attrs)

        def __setitem__(self, key: str, value: Any) -> None:
            Namespace._check(key)
            jinja2.utils.Namespace.__setitem__(self, key, value)

        @staticmethod
        def _check(key: Any) -> None:
            if isinstance(key, str) and key.startswith("_"):
                raise jinja2.exceptions.SecurityError(
                    f"a chat template namespace cannot hold the underscore name {key!r}")

    class DictMaker:
        """`dict(...)` and `dict.fromkeys(...)` in templates, without the type object itself."""

        def __call__(self, *args: Any, **kwargs: Any) -> dict:
            return dict(*args, **kwargs)

        def fromkeys(self, *args: Any, **kwargs: Any) -> dict:
            return dict.fromkeys(*args, **kwargs)

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(value: Any, ensure_ascii: bool = False, indent: Any = None, separators: Any = None,
               sort_keys: bool = False) -> str:
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(fmt: str) -> str:
        return datetime.now().strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals.update(raise_exception=raise_exception, strftime_now=strftime_now,
                       dict=DictMaker(), namespace=Namespace)
    return env

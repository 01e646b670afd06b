"""A Hugging Face tokenizer folder read without transformers: `tokenizer.json` plus its settings.

    folder/
      tokenizer.json            the `tokenizers.Tokenizer` (vocabulary, pre/post-processing)
      tokenizer_config.json     special tokens, add_bos_token, chat_template, model_max_length
      special_tokens_map.json   older folders: the special tokens (strings or {"content": ...})
      chat_template.jinja       newer folders: the chat template (additional_chat_templates/*.jinja)

`encode(hf, text)` gives the ids `AutoTokenizer.from_pretrained(folder)(text)["input_ids"]` gives
for a generic fast tokenizer: the same special tokens are registered as added tokens, truncation
and padding stored in tokenizer.json are off (as in a plain `tokenizer(text)` call), and the
post-processor adds what `add_bos_token`/`add_eos_token` say.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmlab.errors import ModelFormatError
from lmlab.io.folder import TOKENIZER_NAME

CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_FILE = "special_tokens_map.json"
CHAT_TEMPLATE_FILE = "chat_template.jinja"
CHAT_TEMPLATE_DIR = "additional_chat_templates"
# The named special tokens of transformers, in its order; more come as extra special tokens.
SPECIAL_TOKEN_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                      "mask_token")
_NO_LIMIT = int(1e29)  # transformers writes int(1e30) for "no maximum length"


@dataclass
class HFTokenizer:
    """A `tokenizers.Tokenizer` with the special tokens and settings of its Hugging Face folder."""

    tokenizer: Any  # tokenizers.Tokenizer
    bos_token: str | None = None
    eos_token: str | None = None
    pad_token: str | None = None
    unk_token: str | None = None
    add_bos_token: bool = False
    add_eos_token: bool = False
    chat_template: str | None = None
    model_max_length: int | None = None
    chat_templates: dict[str, str] = field(default_factory=dict)  # every named template

    @property
    def bos_id(self) -> int | None:
        return self.token_id(self.bos_token)

    @property
    def eos_id(self) -> int | None:
        return self.token_id(self.eos_token)

    @property
    def pad_id(self) -> int | None:
        return self.token_id(self.pad_token)

    @property
    def unk_id(self) -> int | None:
        return self.token_id(self.unk_token)

    def token_id(self, token: str | None) -> int | None:
        """The id of a token string, or None (no token, or not in the vocabulary)."""
        return None if token is None else self.tokenizer.token_to_id(token)

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """Token ids of `text`, with BOS/EOS as the folder declares when `add_special_tokens`."""
        return self.tokenizer.encode(text, add_special_tokens=add_special_tokens).ids


def encode(hf_tok: HFTokenizer, text: str, add_special_tokens: bool = True) -> list[int]:
    """`hf_tok.encode(text)`: the ids transformers' tokenizer of the folder gives for `text`."""
    return hf_tok.encode(text, add_special_tokens=add_special_tokens)


def read_hf_tokenizer(folder: str | os.PathLike[str]) -> HFTokenizer | None:
    """Read a Hugging Face tokenizer folder; None when it has no tokenizer.json.

    Special tokens come from tokenizer_config.json, overridden by special_tokens_map.json when
    the config has no `added_tokens_decoder` (as transformers reads them). `add_bos_token` and
    `add_eos_token` are the config's when it states them, else what tokenizer.json's
    post-processor inserts. `chat_template` is chat_template.jinja when present, else the
    config's (a string, or the "default" of a list of {"name", "template"}).

    Raises:
        ModelFormatError: the folder is missing, or one of its files is not valid JSON or not a
            tokenizer (the file is named).
    """
    from tokenizers import Tokenizer

    root = Path(folder)
    if not root.is_dir():
        raise ModelFormatError("tokenizer folder not found", where=str(root),
                               fix="pass the folder that holds tokenizer.json")
    file = root / TOKENIZER_NAME
    if not file.is_file():
        return None
    try:
        tokenizer = Tokenizer.from_file(str(file))
    except Exception as exc:  # tokenizers raises a bare Exception, for bad JSON too
        raise ModelFormatError(f"tokenizer.json is not a valid tokenizer ({_first_line(exc)})",
                               where=str(file), fix="restore the file from the original model") from exc
    config = _read_json(root / CONFIG_FILE) if (root / CONFIG_FILE).is_file() else {}
    where = str(root / CONFIG_FILE)
    tokens = {key: _token(config.get(key), key, where) for key in SPECIAL_TOKEN_KEYS}
    extra = config.get("extra_special_tokens", config.get("additional_special_tokens"))
    if "added_tokens_decoder" not in config and (root / SPECIAL_TOKENS_FILE).is_file():
        where_map = str(root / SPECIAL_TOKENS_FILE)
        special_map = _read_json(root / SPECIAL_TOKENS_FILE)
        for key, value in special_map.items():
            if key in SPECIAL_TOKEN_KEYS:
                tokens[key] = _token(value, key, where_map)
        extra = special_map.get("extra_special_tokens",
                                special_map.get("additional_special_tokens", extra))
    extras = [_token(t, "extra_special_tokens", where) for t in _listed(extra)]

    padding = tokenizer.padding
    if tokens["pad_token"] is None and padding and padding.get("pad_token"):
        tokens["pad_token"] = {"content": padding["pad_token"]}
    tokenizer.no_padding()  # a plain `tokenizer(text)` call neither pads nor truncates
    tokenizer.no_truncation()
    tokenizer.encode_special_tokens = bool(config.get("split_special_tokens", False))
    _register_special(tokenizer, [t for t in tokens.values() if t is not None] + extras,
                      config.get("added_tokens_decoder"))

    text_of = {key: (t["content"] if t is not None else None) for key, t in tokens.items()}
    bos, eos = text_of["bos_token"], text_of["eos_token"]
    adds_bos, adds_eos = _processor_adds(_processor_spec(tokenizer), bos, eos)
    add_bos = bool(config["add_bos_token"]) if "add_bos_token" in config else adds_bos
    add_eos = bool(config["add_eos_token"]) if "add_eos_token" in config else adds_eos
    add_bos, add_eos = add_bos and bos is not None, add_eos and eos is not None
    if (add_bos, add_eos) != (adds_bos, adds_eos):
        _set_post_processor(tokenizer, bos if add_bos else None, eos if add_eos else None)

    templates = _chat_templates(root, config)
    limit = config.get("model_max_length")
    return HFTokenizer(
        tokenizer=tokenizer, bos_token=bos, eos_token=eos, pad_token=text_of["pad_token"],
        unk_token=text_of["unk_token"], add_bos_token=add_bos, add_eos_token=add_eos,
        chat_template=templates.get("default"), chat_templates=templates,
        model_max_length=limit if isinstance(limit, int) and 0 < limit < _NO_LIMIT else None)


def _read_json(file: Path) -> Any:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"{file.name} is not valid JSON ({_first_line(exc)})", where=str(file),
                               fix="restore the file from the original model") from exc
    except OSError as exc:
        raise ModelFormatError(f"{file.name} cannot be read ({exc.strerror or exc})", where=str(file),
                               fix="check the file's permissions") from exc
    if not isinstance(data, dict):
        raise ModelFormatError(f"{file.name} holds a {type(data).__name__}, not a JSON object",
                               where=str(file), fix="restore the file from the original model")
    return data


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:160]


def _token(value: Any, key: str, where: str) -> dict[str, Any] | None:
    """A special token as the dict form {"content": ..., ...} (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):
        return {"content": value}
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value
    raise ModelFormatError(f"{key} is a {type(value).__name__}, not a token string or "
                           '{"content": ...}', where=where, fix="write the token as a string")


def _listed(extra: Any) -> list[Any]:
    if extra is None:
        return []
    if isinstance(extra, dict):  # named model-specific tokens
        return list(extra.values())
    return list(extra) if isinstance(extra, list | tuple) else [extra]


def _register_special(tokenizer: Any, tokens: list[dict[str, Any]],
                      added_decoder: Any) -> None:
    """Register the special tokens (and the config's added tokens) that tokenizer.json lacks."""
    from tokenizers import AddedToken

    known = {t.content for t in tokenizer.get_added_tokens_decoder().values()}
    new = []
    if isinstance(added_decoder, dict):
        entries = sorted(((int(i), t) for i, t in added_decoder.items() if str(i).isdigit()
                          and isinstance(t, dict) and isinstance(t.get("content"), str)),
                         key=lambda item: item[0])
        for _, entry in entries:
            if entry["content"] not in known:
                new.append(_added(entry, special=bool(entry.get("special", False))))
                known.add(entry["content"])
    for token in tokens:
        if token["content"] not in known:
            new.append(_added(token, special=True))
            known.add(token["content"])
    if new:
        tokenizer.add_tokens([AddedToken(**t) for t in new])


def _added(token: dict[str, Any], *, special: bool) -> dict[str, Any]:
    keys = ("content", "single_word", "lstrip", "rstrip", "normalized")
    out = {k: token[k] for k in keys if k in token}
    out["special"] = special
    return out


def _processor_adds(processor: Any, bos: str | None, eos: str | None) -> tuple[bool, bool]:
    """Whether a tokenizer.json post-processor puts `bos` before a text and `eos` after it."""
    if not isinstance(processor, dict):
        return False, False
    kind = processor.get("type")
    if kind == "Sequence":
        found = [_processor_adds(p, bos, eos) for p in processor.get("processors", [])]
        return any(b for b, _ in found), any(e for _, e in found)
    if kind == "TemplateProcessing":
        named = processor.get("special_tokens", {})
        before, after, seen_text = [], [], False
        for piece in processor.get("single", []):
            if "Sequence" in piece:
                seen_text = True
            elif "SpecialToken" in piece:
                name = piece["SpecialToken"].get("id")
                (after if seen_text else before).extend(named.get(name, {}).get("tokens", [name]))
        return bos is not None and bos in before, eos is not None and eos in after
    if kind in ("BertProcessing", "RobertaProcessing"):
        cls, sep = processor.get("cls", [None])[0], processor.get("sep", [None])[0]
        return bos is not None and cls == bos, eos is not None and sep == eos
    return False, False


def _processor_spec(tokenizer: Any) -> dict[str, Any] | None:
    """The tokenizer's post-processor as its tokenizer.json entry (None when it has none)."""
    processor = tokenizer.post_processor
    if processor is None:
        return None
    try:
        return json.loads(processor.__getstate__())
    except (AttributeError, TypeError, ValueError):
        return None


def _set_post_processor(tokenizer: Any, bos: str | None, eos: str | None) -> None:
    """`[bos] $A [eos]` (pairs: `[bos] $A [eos] [bos] $B [eos]`), as transformers writes it."""
    from tokenizers import processors

    head = f"{bos}:0 " if bos else ""
    tail = f" {eos}:0" if eos else ""
    single = f"{head}$A:0{tail}"
    pair = f"{single}{f' {bos}:1' if bos else ''} $B:1{f' {eos}:1' if eos else ''}"
    special = [(t, tokenizer.token_to_id(t)) for t in dict.fromkeys(x for x in (bos, eos) if x)]
    tokenizer.post_processor = processors.TemplateProcessing(single=single, pair=pair,
                                                             special_tokens=special)


def _chat_templates(root: Path, config: dict[str, Any]) -> dict[str, str]:
    """Named chat templates: the .jinja files when any, else the config's entry."""
    templates: dict[str, str] = {}
    if (root / CHAT_TEMPLATE_FILE).is_file():
        templates["default"] = (root / CHAT_TEMPLATE_FILE).read_text(encoding="utf-8")
    extra_dir = root / CHAT_TEMPLATE_DIR
    if extra_dir.is_dir():
        for file in sorted(extra_dir.glob("*.jinja")):
            templates[file.name.removesuffix(".jinja")] = file.read_text(encoding="utf-8")
    if templates:
        return templates
    value = config.get("chat_template")
    if isinstance(value, str):
        return {"default": value}
    if isinstance(value, list):
        for entry in value:
            if not (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                    and isinstance(entry.get("template"), str)):
                raise ModelFormatError('chat_template entries must be {"name": ..., "template": ...}',
                                       where=str(root / CONFIG_FILE),
                                       fix="restore the file from the original model")
            templates[entry["name"]] = entry["template"]
    return templates

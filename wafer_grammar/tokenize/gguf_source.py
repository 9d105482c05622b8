"""A GGUF file's embedded tokenizer -> a ``tokenizers`` fast tokenizer and chat template.

GGUF stores the vocabulary, merges, token types, the pre-tokenizer's *name*
(``tokenizer.ggml.pre``) and the chat template. The pre-tokenizer regexes are
not stored, so this module carries them for the names it knows (llama.cpp's
own table, in Hugging Face form). An unknown name is refused rather than guessed:
a wrong pre-tokenizer gives plausible but wrong ids.

Reading a GGUF's metadata takes seconds (GGUFReader walks every field), so the
converted tokenizer is cached, keyed by the file's path, size and mtime.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wafer_grammar.errors import TokenizerError
from wafer_grammar.tokenize.cache import read_cached, write_cached

CONVERTER_VERSION = 1

# llama.cpp pre-tokenizer names -> tokenizer.json pre_tokenizer objects.
_GPT2_BYTELEVEL = {
    "type": "ByteLevel",
    "add_prefix_space": False,
    "trim_offsets": True,
    "use_regex": True,
}
_DIGITS_THEN_GPT2 = {
    "type": "Sequence",
    "pretokenizers": [{"type": "Digits", "individual_digits": True}, _GPT2_BYTELEVEL],
}
_LLAMA3_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_QWEN2_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def _split_then_bytes(regex: str) -> dict[str, Any]:
    return {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False},
            {
                "type": "ByteLevel",
                "add_prefix_space": False,
                "trim_offsets": False,
                "use_regex": False,
            },
        ],
    }


PRE_TOKENIZERS: dict[str, dict[str, Any]] = {
    "gpt2": _GPT2_BYTELEVEL,
    "default": _GPT2_BYTELEVEL,
    "smollm": _DIGITS_THEN_GPT2,
    "starcoder": _DIGITS_THEN_GPT2,
    "refact": _DIGITS_THEN_GPT2,
    "llama-bpe": _split_then_bytes(_LLAMA3_REGEX),
    "llama3": _split_then_bytes(_LLAMA3_REGEX),
    "qwen2": _split_then_bytes(_QWEN2_REGEX),
}

_TOKEN_TYPE_CONTROL = 3
_TOKEN_TYPE_USER_DEFINED = 4


@dataclass(frozen=True)
class GGUFTokenizer:
    """What a GGUF file yields: the tokenizer JSON, its template and named special tokens."""

    tokenizer_json: str
    chat_template: str | None
    special_tokens: dict[str, str]


def _field(reader: Any, key: str) -> Any:
    field = reader.fields.get(key)
    if field is None:
        return None
    return field.contents()


def read_gguf_tokenizer(path: Path) -> GGUFTokenizer:
    """Convert ``path``'s embedded tokenizer (cached); raises :class:`TokenizerError`."""
    stat = path.stat()
    key = repr((CONVERTER_VERSION, str(path.resolve()), stat.st_size, stat.st_mtime_ns))
    name = f"gguf-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    cached = read_cached(name)
    if cached is not None:
        try:
            doc = json.loads(cached)
            return GGUFTokenizer(doc["tokenizer"], doc["chat_template"], doc["special_tokens"])
        except (ValueError, KeyError, TypeError):
            pass  # a damaged entry is rebuilt
    result = _convert(path)
    write_cached(
        name,
        json.dumps(
            {
                "tokenizer": result.tokenizer_json,
                "chat_template": result.chat_template,
                "special_tokens": result.special_tokens,
            }
        ),
    )
    return result


def _convert(path: Path) -> GGUFTokenizer:
    try:
        from gguf import GGUFReader
    except ImportError as exc:  # pragma: no cover - gguf is in the [tokenize] extra
        raise TokenizerError(
            "reading a GGUF tokenizer needs the 'gguf' package: "
            "pip install 'wafer-grammar[tokenize]'"
        ) from exc
    try:
        reader = GGUFReader(str(path))
    except Exception as exc:  # any parse failure means "not a usable GGUF"
        raise TokenizerError(f"{path}: not a readable GGUF file ({exc})") from exc
    model = _field(reader, "tokenizer.ggml.model")
    if model != "gpt2":
        raise TokenizerError(
            f"{path}: GGUF tokenizer model {model!r} is not supported (only byte-level BPE, "
            "'gpt2'); load the model's hub repo or tokenizer.json instead"
        )
    pre = _field(reader, "tokenizer.ggml.pre") or "default"
    if pre not in PRE_TOKENIZERS:
        raise TokenizerError(
            f"{path}: GGUF pre-tokenizer {pre!r} is not known here (known: "
            f"{', '.join(sorted(PRE_TOKENIZERS))}); load the model's tokenizer.json instead"
        )
    tokens: list[str] = list(_field(reader, "tokenizer.ggml.tokens") or [])
    merges: list[str] = list(_field(reader, "tokenizer.ggml.merges") or [])
    types: list[int] = list(_field(reader, "tokenizer.ggml.token_type") or [])
    if not tokens or not merges:
        raise TokenizerError(f"{path}: the GGUF has no tokenizer vocabulary or merges")
    added = [
        {
            "id": i,
            "content": tok,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": types[i] == _TOKEN_TYPE_CONTROL,
        }
        for i, tok in enumerate(tokens)
        if i < len(types) and types[i] in (_TOKEN_TYPE_CONTROL, _TOKEN_TYPE_USER_DEFINED)
    ]
    doc = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": PRE_TOKENIZERS[pre],
        "post_processor": {
            "type": "ByteLevel",
            "add_prefix_space": True,
            "trim_offsets": False,
            "use_regex": True,
        },
        "decoder": {
            "type": "ByteLevel",
            "add_prefix_space": True,
            "trim_offsets": True,
            "use_regex": True,
        },
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": {tok: i for i, tok in enumerate(tokens)},
            "merges": [m.split(" ", 1) for m in merges],
        },
    }
    special: dict[str, str] = {}
    for role in ("bos", "eos", "unknown", "padding"):
        token_id = _field(reader, f"tokenizer.ggml.{role}_token_id")
        if isinstance(token_id, int) and 0 <= token_id < len(tokens):
            name = {"unknown": "unk", "padding": "pad"}.get(role, role)
            special[f"{name}_token"] = tokens[token_id]
    template = _field(reader, "tokenizer.chat_template")
    return GGUFTokenizer(
        json.dumps(doc, ensure_ascii=False),
        template if isinstance(template, str) else None,
        special,
    )

"""Chat templates: rendering them as transformers does, and keeping user text plain.

Rendering follows transformers' ``apply_chat_template`` (a sandboxed Jinja
environment with ``trim_blocks``/``lstrip_blocks``, ``tojson``,
``raise_exception``, ``strftime_now``), so a model's own template gives the text
the server renders.

Control tokens come only from the template, never from user text. Before
rendering, every occurrence of a control-token string inside message values
(``content``, ``reasoning_content``, tool arguments...) is swapped for a
private-use placeholder character. After rendering, the control-token strings
left in the text are the template's own; the text between them is restored and
encoded as plain text. So ``<|im_start|>`` typed by a user costs a few ordinary
tokens instead of opening a new turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from wafer_grammar.errors import TokenizerError

# Supplementary Private Use Area-B: 65,534 placeholders, never produced by a template.
_PUA_START = 0x100000
_PUA_END = 0x10FFFD
_PUA_RE = re.compile("[\U00100000-\U0010fffd]")
# Message keys that name things rather than carry text; templates compare them.
_STRUCTURAL_KEYS = frozenset({"role", "type", "name", "id", "tool_call_id"})


@dataclass(frozen=True)
class ControlToken:
    """An added token as the tokenizer matches it in text."""

    content: str
    id: int
    lstrip: bool = False
    rstrip: bool = False
    single_word: bool = False


class ControlMatcher:
    """Finds control tokens in text the way ``tokenizers``' added vocabulary does.

    Leftmost match wins; at one position the longest token wins (aho-corasick
    ``LeftmostLongest``, what ``tokenizers`` uses). ``lstrip``/``rstrip`` swallow
    the whitespace beside the token, as there.
    """

    def __init__(self, tokens: Iterable[ControlToken]) -> None:
        self.tokens = sorted(tokens, key=lambda t: (-len(t.content), t.content))
        self.by_content = {t.content: t for t in self.tokens}
        parts: list[str] = []
        for t in self.tokens:
            body = f"(?P<t{len(parts)}>{re.escape(t.content)})"
            if t.single_word:
                body = rf"(?<!\w){body}(?!\w)"
            if t.lstrip:
                body = r"\s*" + body
            if t.rstrip:
                body = body + r"\s*"
            parts.append(body)
        self._names = {f"t{i}": t for i, t in enumerate(self.tokens)}
        self._re = re.compile("|".join(parts)) if parts else None
        self._plain_re = (
            re.compile("|".join(re.escape(t.content) for t in self.tokens)) if self.tokens else None
        )

    def split(self, text: str) -> list[str | ControlToken]:
        """``text`` as plain-text pieces and control tokens, in order."""
        if self._re is None:
            return [text] if text else []
        out: list[str | ControlToken] = []
        pos = 0
        for m in self._re.finditer(text):
            if m.start() > pos:
                out.append(text[pos : m.start()])
            name = m.lastgroup
            assert name is not None
            out.append(self._names[name])
            pos = m.end()
        if pos < len(text):
            out.append(text[pos:])
        return out

    def find_any(self, text: str) -> str | None:
        """The first control-token string inside ``text``, or None."""
        if self._plain_re is None:
            return None
        m = self._plain_re.search(text)
        return m.group(0) if m else None


class Defanger:
    """Swaps control-token look-alikes in user values for placeholders, and back."""

    def __init__(self, matcher: ControlMatcher) -> None:
        # One pass over control strings and private-use characters: a user's own
        # private-use character gets a placeholder too, so none is taken for ours.
        alternatives = [re.escape(t.content) for t in matcher.tokens] + [_PUA_RE.pattern]
        self._re = re.compile("|".join(alternatives))
        self._forward: dict[str, str] = {}
        self._back: dict[str, str] = {}

    def _placeholder(self, match: re.Match[str]) -> str:
        original = match.group(0)
        ph = self._forward.get(original)
        if ph is None:
            code = _PUA_START + len(self._forward)
            if code > _PUA_END:
                raise TokenizerError("too many distinct control-token look-alikes in one chat")
            ph = chr(code)
            self._forward[original] = ph
            self._back[ph] = original
        return ph

    def text(self, value: str) -> str:
        """``value`` with control-token strings (and private-use characters) swapped out."""
        return self._re.sub(self._placeholder, value)

    def value(self, obj: Any, key: str | None = None) -> Any:
        """A copy of a message structure with its text leaves defanged."""
        if isinstance(obj, str):
            return obj if key in _STRUCTURAL_KEYS else self.text(obj)
        if isinstance(obj, Mapping):
            return {k: self.value(v, k) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.value(v, key) for v in obj]
        return obj

    def restore(self, text: str) -> str:
        """Put the originals back."""
        if not self._back:
            return text
        return _PUA_RE.sub(lambda m: self._back.get(m.group(0), m.group(0)), text)


def _tojson(
    value: Any, indent: int | None = None, separators: Any = None, sort_keys: bool = False
) -> str:
    # transformers' tojson: no HTML escaping, non-ASCII kept (unlike Jinja's built-in).
    return json.dumps(
        value, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _raise_exception(message: str) -> None:
    raise TokenizerError(f"the chat template refused the messages: {message}")


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


@lru_cache(maxsize=64)
def compile_template(template: str) -> Any:
    """Compile once per distinct template text."""
    from jinja2 import TemplateSyntaxError
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    try:
        return env.from_string(template)
    except TemplateSyntaxError as exc:
        raise TokenizerError(
            f"chat template syntax error at line {exc.lineno}: {exc.message}"
        ) from exc


def render(template: str, variables: Mapping[str, Any]) -> str:
    """Render ``template``; Jinja failures become :class:`TokenizerError`."""
    from jinja2 import TemplateError

    compiled = compile_template(template)
    try:
        return str(compiled.render(**variables))
    except TokenizerError:
        raise
    except TemplateError as exc:
        raise TokenizerError(f"the chat template failed: {exc}") from exc


def check_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate the message list's shape; returns plain dict copies."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise TypeError("messages must be a list of {'role': ..., 'content': ...} dicts")
    if not messages:
        raise ValueError("messages is empty; give at least one message")
    out = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping):
            raise TypeError(f"messages[{i}] must be a dict, not {type(msg).__name__}")
        role = msg.get("role")
        if not isinstance(role, str) or not role:
            raise ValueError(f"messages[{i}] has no 'role' string")
        content = msg.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise TypeError(
                f"messages[{i}]['content'] must be a string, a list of parts or None, "
                f"not {type(content).__name__}"
            )
        out.append(dict(msg))
    return out


def encode_segments(
    segments: Sequence[str | ControlToken],
    restore: Callable[[str], str],
    encode_plain: Callable[[list[str]], list[list[int]]],
) -> list[int]:
    """Ids for rendered pieces: control tokens by id, text restored and encoded plain."""
    texts = [restore(s) for s in segments if isinstance(s, str)]
    encoded = iter(encode_plain(texts))
    ids: list[int] = []
    for seg in segments:
        if isinstance(seg, ControlToken):
            ids.append(seg.id)
        else:
            ids.extend(next(encoded))
    return ids

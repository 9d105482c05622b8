"""The model registry: data that maps a Wafer model ID to its tokenizer and reasoning style.

The built-in entries live in ``models.json`` beside this module. Users add or
override entries three ways: a JSON file named by ``$WAFER_GRAMMAR_MODELS`` (same
shape as ``models.json``), :func:`register_model` for the process, or an explicit
:class:`Registry` passed to ``load_tokenizer(..., registry=...)``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

from wafer_grammar.errors import RegistryError

Reasoning = Literal["separate", "inline", "none"]
REASONING_STYLES: tuple[str, ...] = ("separate", "inline", "none")
MODELS_ENV = "WAFER_GRAMMAR_MODELS"


@dataclass(frozen=True)
class ModelEntry:
    """One model: where its tokenizer comes from and how it reasons."""

    id: str
    """The model ID exactly as the API spells it (IDs are case-sensitive on the wire)."""
    tokenizer: str
    """Source spec: ``package:NAME[/VAR]``, ``package-file:MOD/FILE``, ``hub:ORG/REPO``, a path."""
    chat_template: str | None = None
    """Where the chat template comes from when the tokenizer source has none (same syntax)."""
    hub_repo: str | None = None
    """The upstream hub repository of the weights, for reference."""
    reasoning: Reasoning = "none"
    """``separate``: API returns ``reasoning_content``; ``inline``: ``<think>`` in the content."""
    thinking_variable: str | None = None
    """The chat-template variable that switches reasoning; None when the template has no switch."""
    max_model_len: int | None = None
    """Context window (prompt + output tokens) from the model card."""
    trust_remote_code: bool = False
    """The hub tokenizer runs code from its repo; loading it needs the caller's explicit consent."""
    notes: str = ""
    """Free text: provenance of the numbers, caveats."""

    @classmethod
    def from_dict(cls, model_id: str, data: Mapping[str, Any]) -> ModelEntry:
        """Build an entry from its JSON object; raises :class:`RegistryError` naming the field."""
        known = {f.name for f in fields(cls)} - {"id"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RegistryError(
                f"model {model_id!r}: unknown field {unknown[0]!r}; "
                f"known fields: {', '.join(sorted(known))}"
            )
        if not isinstance(data.get("tokenizer"), str) or not data["tokenizer"]:
            raise RegistryError(f"model {model_id!r}: 'tokenizer' must be a non-empty string")
        for name in ("chat_template", "hub_repo", "thinking_variable"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise RegistryError(f"model {model_id!r}: {name!r} must be a string or null")
        reasoning = data.get("reasoning", "none")
        if reasoning not in REASONING_STYLES:
            raise RegistryError(
                f"model {model_id!r}: 'reasoning' must be one of "
                f"{', '.join(REASONING_STYLES)}, not {reasoning!r}"
            )
        max_len = data.get("max_model_len")
        if max_len is not None and (
            isinstance(max_len, bool) or not isinstance(max_len, int) or max_len <= 0
        ):
            raise RegistryError(
                f"model {model_id!r}: 'max_model_len' must be a positive integer or null"
            )
        if not isinstance(data.get("trust_remote_code", False), bool):
            raise RegistryError(f"model {model_id!r}: 'trust_remote_code' must be true or false")
        if not isinstance(data.get("notes", ""), str):
            raise RegistryError(f"model {model_id!r}: 'notes' must be a string")
        return cls(id=model_id, **dict(data))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object for this entry (without its ID, which is the key)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name != "id":
                out[f.name] = getattr(self, f.name)
        return out


class Registry:
    """An immutable set of :class:`ModelEntry`, looked up by model ID.

    Lookup is exact first, then case-insensitive (``glm-5.1`` finds ``GLM-5.1``);
    the entry keeps the canonical spelling to send to the API.
    """

    def __init__(self, entries: Iterable[ModelEntry] = ()) -> None:
        self._entries: dict[str, ModelEntry] = {}
        for entry in entries:
            self._entries[entry.id] = entry

    @classmethod
    def from_json(cls, text: str, *, origin: str = "<string>") -> Registry:
        """Parse a registry document (the shape of the built-in ``models.json``)."""
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RegistryError(
                f"{origin}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("models"), dict):
            raise RegistryError(f"{origin}: expected an object with a 'models' object")
        models = cast(dict[str, Any], doc["models"])
        entries = []
        for model_id, data in models.items():
            if not isinstance(data, dict):
                raise RegistryError(f"{origin}: model {model_id!r} must be an object")
            entries.append(ModelEntry.from_dict(model_id, data))
        return cls(entries)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Registry:
        """Read a registry JSON file."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise RegistryError(f"cannot read model registry {os.fspath(path)!r}: {exc}") from exc
        return cls.from_json(text, origin=os.fspath(path))

    def to_json(self) -> str:
        """The registry as a ``models.json`` document."""
        doc = {"format": 1, "models": {e.id: e.to_dict() for e in self}}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

    def get(self, model_id: str) -> ModelEntry | None:
        """The entry for ``model_id``, or None."""
        entry = self._entries.get(model_id)
        if entry is not None:
            return entry
        folded = model_id.casefold()
        matches = [e for key, e in self._entries.items() if key.casefold() == folded]
        return matches[0] if len(matches) == 1 else None

    def with_entries(self, *entries: ModelEntry) -> Registry:
        """A new registry with ``entries`` added; an entry with the same ID replaces the old."""
        return Registry([*self._entries.values(), *entries])

    def merged(self, other: Registry) -> Registry:
        """A new registry where ``other``'s entries override this one's."""
        return self.with_entries(*other)

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and self.get(model_id) is not None

    def __iter__(self) -> Iterator[ModelEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def ids(self) -> list[str]:
        """The model IDs, in registry order."""
        return list(self._entries)


def builtin_registry() -> Registry:
    """The entries shipped in ``models.json``, with no user overrides."""
    text = resources.files("wafer_grammar.tokenize").joinpath("models.json").read_text("utf-8")
    return Registry.from_json(text, origin="wafer_grammar/tokenize/models.json")


_process_entries: dict[str, ModelEntry] = {}


def register_model(entry: ModelEntry) -> None:
    """Add or override an entry in this process's default registry."""
    _process_entries[entry.id] = entry


def unregister_model(model_id: str) -> None:
    """Drop an entry added with :func:`register_model` (built-in entries come back)."""
    _process_entries.pop(model_id, None)


def default_registry() -> Registry:
    """Built-in entries, then ``$WAFER_GRAMMAR_MODELS``'s, then :func:`register_model`'s.

    Built fresh on each call (it is small) so environment changes take effect.
    """
    registry = builtin_registry()
    user_file = os.environ.get(MODELS_ENV)
    if user_file:
        registry = registry.merged(Registry.from_file(user_file))
    return registry.with_entries(*_process_entries.values())

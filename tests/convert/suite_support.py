"""The official JSON Schema Test Suite (draft 2020-12) as a referee for schema converters.

The suite (https://github.com/json-schema-org/JSON-Schema-Test-Suite, MIT licence,
Copyright (c) 2012 Julian Berman; its LICENSE is unpacked beside the files) is not
committed: ``make suite`` unpacks it from the ``jsonschema`` sdist into
``.venv/json-schema-test-suite/``. Tests and ``bench/json_schema_suite.py`` read it
from there (or from ``$JSON_SCHEMA_TEST_SUITE``) and skip when it is absent.

A group is one schema with its instances. Each instance is judged on its canonical
serialization, ``json.dumps(v, separators=(",", ":"), ensure_ascii=False)``: an
instance the suite calls invalid must be rejected; one it calls valid should be
accepted (completeness, not soundness: a grammar may narrow). Members a grammar
generates must validate with ``jsonschema`` (formats asserted).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

ROOT = Path(__file__).resolve().parents[2]
SUITE = (
    Path(os.environ.get("JSON_SCHEMA_TEST_SUITE", ROOT / ".venv" / "json-schema-test-suite"))
    / "tests"
    / "draft2020-12"
)
SUITE_MISSING = f"the JSON Schema Test Suite is not unpacked at {SUITE}: run `make suite`"
METASCHEMA = "https://json-schema.org/draft/2020-12/schema"
#: Members sampled per converted group, and the seed (derandomized).
MEMBERS = 20
SEED = 20


@dataclass
class Group:
    """One schema of the suite with its instances."""

    file: str
    index: int
    description: str
    schema: Any
    tests: list[dict[str, Any]]
    skip: str | None = None

    @property
    def name(self) -> str:
        return f"{self.file}#{self.index}"

    @property
    def formats_asserted(self) -> bool:
        return self.file.startswith("optional/format/")


def canonical(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _join(base: str, ref: str) -> str:
    """``ref`` resolved against ``base``, without its fragment (urljoin ignores ``urn:``)."""
    if ref.startswith("#"):
        return base
    if ":" in ref.split("/", 1)[0]:
        return urldefrag(ref)[0]
    return urldefrag(urljoin(base, ref))[0]


def _resources(schema: Any, base: str, ids: set[str], refs: list[tuple[str, str]]) -> None:
    if isinstance(schema, list):
        for item in schema:
            _resources(item, base, ids, refs)
        return
    if not isinstance(schema, dict):
        return
    if isinstance(schema.get("$id"), str):
        base = _join(base, schema["$id"])
        ids.add(base)
    for key in ("$ref", "$dynamicRef"):
        if isinstance(schema.get(key), str):
            refs.append((base, schema[key]))
    for key, value in schema.items():
        if key not in ("enum", "const", "examples", "default"):
            _resources(value, base, ids, refs)


def skip_reason(schema: Any) -> str | None:
    """Why a group is left out: a reference outside the document, or a custom metaschema."""
    if not isinstance(schema, dict):
        return None
    dialect = schema.get("$schema")
    if dialect is not None and dialect.rstrip("#") != METASCHEMA:
        return f"custom metaschema {dialect}"
    base = "https://suite.invalid/root.json"  # urljoin resolves only against hierarchical URIs
    ids = {_join(base, schema.get("$id", base))}
    refs: list[tuple[str, str]] = []
    _resources(schema, base, ids, refs)
    for ref_base, ref in refs:
        target = _join(ref_base, ref)
        if target not in ids:
            return f"remote $ref {ref}"
    return None


def groups() -> Iterator[Group]:
    """Every group of the draft 2020-12 files and of ``optional/format/``, in file order."""
    files = sorted(SUITE.glob("*.json")) + sorted((SUITE / "optional" / "format").glob("*.json"))
    for path in files:
        rel = path.relative_to(SUITE).as_posix()
        for i, group in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            yield Group(
                rel,
                i,
                group["description"],
                group["schema"],
                group["tests"],
                skip_reason(group["schema"]),
            )


@dataclass
class Verdict:
    """What one converter did with one group."""

    group: Group
    refused: str | None = None  # the refusal ("keyword at pointer: reason"), if refused
    crashed: str | None = None  # any other exception
    false_accepts: list[str] = field(default_factory=list)
    valid_total: int = 0
    valid_accepted: int = 0
    members: int = 0
    bad_members: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def converted(self) -> bool:
        return self.refused is None and self.crashed is None


def validator(group: Group) -> Callable[[Any], bool]:
    import jsonschema

    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    v = jsonschema.Draft202012Validator(group.schema, format_checker=checker)
    return lambda value: bool(v.is_valid(value))


def judge(
    group: Group,
    accepts: Callable[[str], bool],
    members: list[str],
) -> Verdict:
    """Instances and sampled members of a converted group, judged."""
    verdict = Verdict(group)
    for test in group.tests:
        text = canonical(test["data"])
        ok = accepts(text)
        if test["valid"]:
            verdict.valid_total += 1
            verdict.valid_accepted += ok
        elif ok:
            verdict.false_accepts.append(text)
    is_valid = validator(group)
    verdict.members = len(members)
    for text in members:
        try:
            value = json.loads(text)
        except ValueError:
            verdict.bad_members.append(text)
            continue
        if not is_valid(value):
            verdict.bad_members.append(text)
    return verdict

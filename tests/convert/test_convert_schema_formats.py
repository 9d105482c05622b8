"""Every format draft 2020-12 defines has a grammar (issue 20): RFC examples either way, and
sampled members pass the checks ``jsonschema`` makes (``idna``, ``re.compile``, ...)."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from wafer_grammar import Grammar
from wafer_grammar.testing.generate import Bounds
from wafer_grammar.testing.strategies import sample_members

FORMATS = [
    "date",
    "time",
    "date-time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
]

EXAMPLES = [
    ("duration", "P4DT12H30M5S", True),
    ("duration", "P2W", True),
    ("duration", "PT36H", True),
    ("duration", "P1YT", False),
    ("duration", "P2D1Y", False),
    ("duration", "P1Y2W", False),
    ("hostname", "www.example.com", True),
    ("hostname", "-hostname", False),
    ("hostname", "host_name", False),
    ("hostname", "a" * 64 + ".com", False),
    ("idn-hostname", "실례.테스트", True),
    ("idn-hostname", "a。b", True),
    ("idn-hostname", "xn--X", False),
    ("idn-hostname", "-hello", False),
    ("idn-hostname", "。", False),
    ("email", '"joe bloggs"@example.com', True),
    ("email", "joe.bloggs@[127.0.0.1]", True),
    ("email", "joe.bloggs@[127.0.0.300]", False),
    ("email", "te..st@example.com", False),
    ("idn-email", "실례@실례.테스트", True),
    ("idn-email", "2962", False),
    ("uri", "http://user:pw@example.com/a", True),
    ("uri", "ldap://[2001:db8::7]/c=GB?objectClass?one", True),
    ("uri", "//foo.bar/?baz=qux#quux", False),
    ("uri-reference", "//foo.bar/?baz=qux#quux", True),
    ("uri-reference", "abc", True),
    ("uri-reference", "#fragment", True),
    ("uri-reference", "\\\\WINDOWS\\fileshare", False),
    ("iri", "http://ƒøø.ßår/?∂éœ=πîx#πîüx", True),
    ("iri", "http://2001:0db8:85a3:0000:0000:8a2e:0370:7334", False),
    ("iri", "âππ", False),
    ("iri-reference", "#ƒrägmênt", True),
    ("iri-reference", "#ƒräg\\mênt", False),
    ("uri-template", "http://example.com/dictionary/{term:1}/{term}", True),
    ("uri-template", "http://example.com/dictionary/{term:1}/{term", False),
    ("json-pointer", "/foo/bar~0/baz~1/%a", True),
    ("json-pointer", '/k"l', True),
    ("json-pointer", "/i\\j", True),
    ("json-pointer", "/foo/bar~", False),
    ("json-pointer", "#/", False),
    ("relative-json-pointer", "0#", True),
    ("relative-json-pointer", "120/foo/bar", True),
    ("relative-json-pointer", "01/a", False),
    ("relative-json-pointer", "-1/foo/bar", False),
    ("regex", "([abc])+\\s+$", True),
    ("regex", "^(abc]", False),
    ("regex", "\\a", False),
]


@pytest.mark.parametrize(("fmt", "value", "ok"), EXAMPLES)
def test_format_examples(fmt: str, value: str, ok: bool) -> None:
    grammar = Grammar.from_json_schema({"type": "string", "format": fmt})
    assert grammar.accepts(json.dumps(value, ensure_ascii=False)) is ok


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_members_pass_jsonschema_checks(fmt: str) -> None:
    schema = {"type": "string", "format": fmt}
    grammar = Grammar.from_json_schema(schema)
    [entry] = [e for e in grammar.coverage if e.keyword == "format"]
    assert entry.status == "enforced"
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    for tree in sample_members(grammar, 40, seed=3, bounds=Bounds(max_size=200)):
        value = json.loads(tree.flatten())
        jsonschema.validate(value, schema, format_checker=checker)
        if fmt == "regex":  # checked even where jsonschema has no checker
            re.compile(value)

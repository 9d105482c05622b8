"""Python regexes and label lists become grammars; unsupported constructs are named.

Run: .venv/bin/python examples/convert_regex.py
"""

from __future__ import annotations

import re

from wafer_grammar import Grammar

phone_re = r"^\+?\d{1,3}[ -]?\(?\d{3}\)?[ -]?\d{3}-?\d{4}$"
phone = Grammar.from_regex(phone_re, re.ASCII)
print(phone.to_ebnf())
for text in ["+1 (555) 123-4567", "1-555-123-4567", "call me"]:
    print(
        f"{text!r}: {phone.accepts(text)}",
        f"(re.fullmatch: {bool(re.fullmatch(phone_re, text, re.ASCII))})",
    )

try:
    Grammar.from_regex(r"(\w+) \1")
except ValueError as exc:
    print(exc)

labels = Grammar.choice(["positive", "negative", "neutral"])
print(labels.to_ebnf())
prefixes = Grammar.choice(["yes", "yes, but"])
for diagnostic in prefixes.check():
    print(diagnostic.render(prefixes.source))

"""``format`` values as grammar rules: date, time, date-time, uuid, email, uri, ipv4, ipv6.

Each is a subset of its RFC that Python's own parsers accept (``date`` counts
days per month and leap years, so ``date.fromisoformat`` accepts every one):
a narrowing where the RFC is loose (``uri`` requires ``scheme://host``; ``time``
has no leap second and at most nine fraction digits), never a widening.
All characters are plain ASCII that JSON strings need not escape.
"""

from __future__ import annotations

from functools import lru_cache

from wafer_grammar.ebnf.analysis import length_range, reachable_rules
from wafer_grammar.ebnf.parser import parse_ebnf
from wafer_grammar.ebnf.syntax import GrammarAST, Rule

FORMAT_EBNF = r"""
root ::= fmt-date | fmt-time | fmt-date-time | fmt-uuid | fmt-email | fmt-uri | fmt-ipv4
    | fmt-ipv6
fmt-date ::= fmt-year "-" fmt-month-day | fmt-leap-year "-02-29"
fmt-year ::= [0-9] [0-9] [0-9] [1-9] | [0-9] [0-9] [1-9] "0" | [0-9] [1-9] "00" | [1-9] "000"
fmt-leap-year ::= [0-9] [0-9] ([02468] [48] | [13579] [26] | [2468] "0")
    | ("0" [48] | [2468] [048] | [13579] [26]) "00"
fmt-month-day ::= ("01" | "03" | "05" | "07" | "08" | "10" | "12") "-"
        ("0" [1-9] | [12] [0-9] | "3" [01])
    | ("04" | "06" | "09" | "11") "-" ("0" [1-9] | [12] [0-9] | "30")
    | "02-" ("0" [1-9] | "1" [0-9] | "2" [0-8])
fmt-time ::= fmt-hour ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,9})? fmt-offset
fmt-hour ::= [01] [0-9] | "2" [0-3]
fmt-offset ::= "Z" | [+\-] fmt-hour ":" [0-5] [0-9]
fmt-date-time ::= fmt-date "T" fmt-time
fmt-hex ::= [0-9a-fA-F]
fmt-uuid ::= fmt-hex{8} "-" fmt-hex{4} "-" fmt-hex{4} "-" fmt-hex{4} "-" fmt-hex{12}
fmt-email ::= fmt-email-atom ("." fmt-email-atom)* "@" fmt-label ("." fmt-label)+
fmt-email-atom ::= [A-Za-z0-9!#$%&'*+/=?\^_`{|}~\-]+
fmt-label ::= [A-Za-z0-9] ([A-Za-z0-9\-]{0,61} [A-Za-z0-9])?
fmt-uri ::= [A-Za-z] [A-Za-z0-9+.\-]* "://" fmt-label ("." fmt-label)* (":" [0-9]{1,5})?
    ("/" fmt-pchar*)* ("?" fmt-query)? ("#" fmt-query)?
fmt-pchar ::= [A-Za-z0-9._~!$&'()*+,;=:@\-] | "%" fmt-hex fmt-hex
fmt-query ::= (fmt-pchar | [/?])*
fmt-ipv4 ::= fmt-octet "." fmt-octet "." fmt-octet "." fmt-octet
fmt-octet ::= [0-9] | [1-9] [0-9] | "1" [0-9] [0-9] | "2" [0-4] [0-9] | "25" [0-5]
fmt-h16 ::= fmt-hex{1,4}
fmt-ls32 ::= fmt-h16 ":" fmt-h16 | fmt-ipv4
fmt-ipv6 ::= (fmt-h16 ":"){6} fmt-ls32
    | "::" (fmt-h16 ":"){5} fmt-ls32
    | fmt-h16? "::" (fmt-h16 ":"){4} fmt-ls32
    | ((fmt-h16 ":"){0,1} fmt-h16)? "::" (fmt-h16 ":"){3} fmt-ls32
    | ((fmt-h16 ":"){0,2} fmt-h16)? "::" (fmt-h16 ":"){2} fmt-ls32
    | ((fmt-h16 ":"){0,3} fmt-h16)? "::" fmt-h16 ":" fmt-ls32
    | ((fmt-h16 ":"){0,4} fmt-h16)? "::" fmt-ls32
    | ((fmt-h16 ":"){0,5} fmt-h16)? "::" fmt-h16
    | ((fmt-h16 ":"){0,6} fmt-h16)? "::"
"""

#: ``format`` value -> the rule that matches it.
FORMATS = {
    "date": "fmt-date",
    "time": "fmt-time",
    "date-time": "fmt-date-time",
    "uuid": "fmt-uuid",
    "email": "fmt-email",
    "uri": "fmt-uri",
    "ipv4": "fmt-ipv4",
    "ipv6": "fmt-ipv6",
}


#: The formats draft 2020-12 defines: one we lack is refused (strict), since users of
#: constrained decoding expect it enforced; any other name is an annotation only.
SPEC_FORMATS = frozenset(
    {
        *FORMATS,
        "duration",
        "idn-email",
        "hostname",
        "idn-hostname",
        "uri-reference",
        "iri",
        "iri-reference",
        "uri-template",
        "json-pointer",
        "relative-json-pointer",
        "regex",
    }
)


@lru_cache(maxsize=1)
def _rules() -> dict[str, Rule]:
    return parse_ebnf(FORMAT_EBNF).rule_map()


def format_rules(name: str) -> list[Rule]:
    """The rules ``format: name`` needs, its own rule first."""
    rules = _rules()
    start = FORMATS[name]
    needed = reachable_rules(GrammarAST(tuple(rules.values()), start), start)
    return [rules[start]] + [r for n, r in rules.items() if n in needed and n != start]


def format_lengths(name: str) -> tuple[int, int | None]:
    """The shortest and longest (None: unbounded) text of ``format: name``."""
    rules = format_rules(name)
    found = length_range(GrammarAST(tuple(rules), rules[0].name))
    assert found is not None
    return found

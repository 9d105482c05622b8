"""``format`` values as grammar rules: every format draft 2020-12 defines.

Each is a subset of its RFC that Python's own parsers accept (``date`` counts
days per month and leap years, so ``date.fromisoformat`` accepts every one):
a narrowing where the RFC is loose (a ``uri`` authority is a host name or an IP
literal; ``time`` has no leap second and at most nine fraction digits; ``hostname``
has at most four labels; ``idn-hostname`` labels are ASCII ones without ``--`` or up
to eight Latin-1, Greek or Hangul letters, which ``idna`` accepts; ``regex`` is a
subset that ECMA-262 and Python's ``re`` both compile, without escapes other than
classes and quoted metacharacters), never a widening. Characters are written as JSON
needs no escape for them, except ``\\"`` and ``\\\\`` (``email``'s quoted local part,
``json-pointer``, ``regex``); ``iri``, ``iri-reference``, ``idn-email``,
``idn-hostname`` and ``json-pointer`` go beyond ASCII.
"""

from __future__ import annotations

from functools import lru_cache

from wafer_grammar.ebnf.analysis import length_range, reachable_rules
from wafer_grammar.ebnf.parser import parse_ebnf
from wafer_grammar.ebnf.syntax import GrammarAST, Rule

FORMAT_EBNF = r"""
root ::= fmt-date | fmt-time | fmt-date-time | fmt-uuid | fmt-email | fmt-uri | fmt-ipv4
    | fmt-ipv6 | fmt-duration | fmt-hostname | fmt-idn-hostname | fmt-uri-reference
    | fmt-uri-template | fmt-json-pointer | fmt-relative-json-pointer | fmt-regex
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
fmt-email ::= (fmt-email-atom ("." fmt-email-atom)* | "\\\"" [ !#-\[\]-~]* "\\\"") "@"
    (fmt-label ("." fmt-label)+ | "[" fmt-ipv4 "]" | "[IPv6:" fmt-ipv6 "]")
fmt-idn-email ::= fmt-idn-atom ("." fmt-idn-atom)* "@" fmt-idn-label ("." fmt-idn-label)+
fmt-idn-atom ::= ([A-Za-z0-9!#$%&'*+/=?\^_`{|}~\-] | fmt-ucschar)+
fmt-ucschar ::= [\u00A0-\uD7FF\uF900-\uFDCF\uFDF0-\uFFEF]
fmt-email-atom ::= [A-Za-z0-9!#$%&'*+/=?\^_`{|}~\-]+
fmt-label ::= [A-Za-z0-9] ([A-Za-z0-9\-]{0,61} [A-Za-z0-9])?
fmt-uri ::= [A-Za-z] [A-Za-z0-9+.\-]* ":" ("//" (fmt-userinfo "@")?
        (fmt-label ("." fmt-label)* | "[" fmt-ipv6 "]") (":" [0-9]{1,5})? ("/" fmt-pchar*)*
        | "/" (fmt-pchar+ ("/" fmt-pchar*)*)? | fmt-pchar+ ("/" fmt-pchar*)* | "")
    ("?" fmt-query)? ("#" fmt-query)?
fmt-userinfo ::= ([A-Za-z0-9._~!$&'()*+,;=:\-] | "%" fmt-hex fmt-hex)*
fmt-iri ::= [A-Za-z] [A-Za-z0-9+.\-]* "://" (fmt-userinfo "@")? fmt-ihost (":" [0-9]{1,5})?
    ("/" fmt-ipchar*)* ("?" fmt-iquery)? ("#" fmt-iquery)?
fmt-ihost ::= fmt-ilabel ("." fmt-ilabel)* | "[" fmt-ipv6 "]"
fmt-ilabel ::= ([A-Za-z0-9] | fmt-ucschar) ([A-Za-z0-9\-] | fmt-ucschar)*
fmt-ipchar ::= fmt-pchar | fmt-ucschar
fmt-iquery ::= (fmt-ipchar | [/?])*
fmt-iri-reference ::= fmt-iri | ("//" fmt-ihost (":" [0-9]{1,5})? ("/" fmt-ipchar*)*
        | "/" (fmt-ipchar+ ("/" fmt-ipchar*)*)? | (fmt-pchar-nc | fmt-ucschar)+ ("/" fmt-ipchar*)*
        | "") ("?" fmt-iquery)? ("#" fmt-iquery)?
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
fmt-duration ::= "P" (fmt-dur-date | fmt-dur-time | [0-9]+ "W")
fmt-dur-date ::= (fmt-dur-day | fmt-dur-month | fmt-dur-year) fmt-dur-time?
fmt-dur-year ::= [0-9]+ "Y" fmt-dur-month?
fmt-dur-month ::= [0-9]+ "M" fmt-dur-day?
fmt-dur-day ::= [0-9]+ "D"
fmt-dur-time ::= "T" (fmt-dur-hour | fmt-dur-minute | fmt-dur-second)
fmt-dur-hour ::= [0-9]+ "H" fmt-dur-minute?
fmt-dur-minute ::= [0-9]+ "M" fmt-dur-second?
fmt-dur-second ::= [0-9]+ "S"
fmt-hostname ::= fmt-label ("." fmt-label){0,3}
fmt-idn-hostname ::= fmt-idn-label ([.\u3002\uFF0E\uFF61] fmt-idn-label){0,3}
fmt-idn-label ::= [a-z0-9]{1,20} ("-" [a-z0-9]{1,20}){0,2}
    | [a-z0-9\u00DF-\u00F6\u00F8-\u00FF\u03B1-\u03C9\uAC00-\uD7A3]{1,8}
fmt-uri-reference ::= fmt-uri | fmt-relative-ref
fmt-relative-ref ::= ("//" fmt-label ("." fmt-label)* (":" [0-9]{1,5})? ("/" fmt-pchar*)*
        | "/" (fmt-pchar+ ("/" fmt-pchar*)*)? | fmt-pchar-nc+ ("/" fmt-pchar*)* | "")
    ("?" fmt-query)? ("#" fmt-query)?
fmt-pchar-nc ::= [A-Za-z0-9._~!$&'()*+,;=@\-] | "%" fmt-hex fmt-hex
fmt-uri-template ::= (fmt-ut-literal | "{" [+#./;?&]? fmt-ut-varspec ("," fmt-ut-varspec)* "}")*
fmt-ut-literal ::= [!#$&()*+,\-./0-9:;=?@A-Z\[\]_a-z~] | "%" fmt-hex fmt-hex
fmt-ut-varspec ::= fmt-ut-varchar ("."? fmt-ut-varchar)* (":" [1-9] [0-9]{0,3} | "*")?
fmt-ut-varchar ::= [A-Za-z0-9_] | "%" fmt-hex fmt-hex
fmt-json-pointer ::= ("/" fmt-jp-char*)*
fmt-jp-char ::= [^/~"\\\x00-\x1F] | "~" [01] | "\\\"" | "\\\\"
fmt-relative-json-pointer ::= ("0" | [1-9] [0-9]*) ("#" | fmt-json-pointer)
fmt-regex ::= fmt-re-branch ("|" fmt-re-branch)*
fmt-re-branch ::= "^"? fmt-re-piece* "$"?
fmt-re-piece ::= fmt-re-atom (("*" | "+" | "?" | "{" [0-9]{1,3} ","? "}") "?"?)?
fmt-re-atom ::= [A-Za-z0-9 _,:;!@#%&=<>'~/\-] | "." | "(" "?:"? fmt-regex ")"
    | "\\\\" [dDwWsS.*+?()\[\]{}|^$/\-]
    | "[" "^"? ([A-Za-z0-9 _,:;!@#%=<>'/.*+?(){}$] | "\\\\" [dDwWsS.\-\[\]^])+ "]"
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
    "duration": "fmt-duration",
    "hostname": "fmt-hostname",
    "idn-hostname": "fmt-idn-hostname",
    "idn-email": "fmt-idn-email",
    "uri-reference": "fmt-uri-reference",
    "iri": "fmt-iri",
    "iri-reference": "fmt-iri-reference",
    "uri-template": "fmt-uri-template",
    "json-pointer": "fmt-json-pointer",
    "relative-json-pointer": "fmt-relative-json-pointer",
    "regex": "fmt-regex",
}


#: The formats draft 2020-12 defines, each enforced (users of constrained decoding expect
#: it); any other name is an annotation only.
SPEC_FORMATS = frozenset(FORMATS)


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

"""Server profiles: how each kind of server takes a grammar, and what its cards say.

One grammar, four servers (each field checked against that server's documented
request schema):

- ``wafer``: Wafer's serverless API (``ebnf`` on ``/v1/completions``; XGrammar 0.2
  dialect; cards with ``wafer.pricing`` and ``zdr_supported``).
- ``sglang``: SGLang's OpenAI-compatible server with its XGrammar backend (``ebnf``
  on completions and on chat, sampling params doc); no pricing, no ZDR.
- ``vllm``: vLLM >= 0.12 (``structured_outputs: {"grammar": ...}``; the
  ``guided_grammar`` field was removed in v0.12.0). vLLM logs unknown fields and
  ignores them, so sending ``ebnf`` there would come back unconstrained.
- ``llamacpp``: llama.cpp's ``llama-server`` (``grammar``, in GBNF; its OpenAI
  endpoints take it too). GBNF has no lookahead, rule options or macros.

A profile is chosen by ``server=`` on the client; ``"auto"`` asks ``/v1/models``
(``owned_by``) and the ``Server`` header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wafer_grammar.grammar import Grammar


@dataclass(frozen=True)
class ServerProfile:
    """What the client needs to know about one kind of server."""

    name: str
    grammar_field: str
    """Where the grammar goes, as a dotted path in the body (``structured_outputs.grammar``)."""
    dialect: str
    """The lint profile the grammar is checked against (``check(profile=...)``)."""
    masks_logprobs: bool
    """The reported logprobs are those of the grammar-masked distribution."""
    pricing: bool
    """Cards carry ``wafer.pricing`` (``cost()`` can price an answer)."""
    zdr: bool
    """The server honours ``Wafer-ZDR: required``."""
    chat_grammar: bool
    """The chat endpoint takes the grammar too (otherwise chat grammars go through
    ``/v1/completions`` with a locally rendered token-ID prompt)."""

    def grammar_body(self, grammar: Grammar | str, ebnf: str) -> dict[str, Any]:
        """The body fields that carry ``grammar`` (whose EBNF text is ``ebnf``) to this server.

        Raises:
            GrammarError: (``llamacpp``) the grammar uses what GBNF cannot express.
        """
        text = ebnf if self.dialect != "gbnf" else _gbnf_of(grammar)
        *outer, last = self.grammar_field.split(".")
        body: dict[str, Any] = {last: text}
        for name in reversed(outer):
            body = {name: body}
        return body


def _gbnf_of(grammar: Grammar | str) -> str:
    from wafer_grammar.grammar import Grammar

    parsed = Grammar.from_ebnf(grammar) if isinstance(grammar, str) else grammar
    return parsed.to_gbnf()


PROFILES: Mapping[str, ServerProfile] = {
    p.name: p
    for p in (
        ServerProfile(
            "wafer", "ebnf", "xgrammar-0.2", masks_logprobs=True, pricing=True, zdr=True,
            chat_grammar=False,
        ),
        ServerProfile(
            "sglang", "ebnf", "xgrammar-0.2", masks_logprobs=True, pricing=False, zdr=False,
            chat_grammar=True,
        ),
        ServerProfile(
            "vllm", "structured_outputs.grammar", "xgrammar-0.2", masks_logprobs=False,
            pricing=False, zdr=False, chat_grammar=True,
        ),
        ServerProfile(
            "llamacpp", "grammar", "gbnf", masks_logprobs=False, pricing=False, zdr=False,
            chat_grammar=True,
        ),
    )
}  # fmt: skip
SERVERS = (*PROFILES, "auto")


def profile_named(name: str) -> ServerProfile:
    """The profile called ``name``.

    Raises:
        ValueError: not one of :data:`SERVERS` (``"auto"`` is resolved by the client).
    """
    found = PROFILES.get(name)
    if found is None:
        raise ValueError(f"server must be one of {', '.join(SERVERS)}, not {name!r}")
    return found


def detect(models_doc: object, headers: Mapping[str, str]) -> ServerProfile | None:
    """The profile a server announces: ``owned_by`` in its cards, else its ``Server`` header.

    None when it says nothing we know (the client then keeps ``wafer``).
    """
    owners: set[str] = set()
    if isinstance(models_doc, Mapping) and isinstance(models_doc.get("data"), list):
        for card in models_doc["data"]:
            if isinstance(card, Mapping) and isinstance(card.get("owned_by"), str):
                owners.add(card["owned_by"].casefold())
    aliases = {"wafer": "wafer", "sglang": "sglang", "vllm": "vllm", "llamacpp": "llamacpp"}
    for owner in sorted(owners):
        if owner in aliases:
            return PROFILES[aliases[owner]]
    server = {k.lower(): v for k, v in headers.items()}.get("server", "").casefold()
    if "llama.cpp" in server or "llama-server" in server:
        return PROFILES["llamacpp"]
    return None

"""``wafer-grammar tokenize`` and ``wafer-grammar models --local``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wafer_grammar.cli.exits import CommandError
from wafer_grammar.errors import ChatTemplateMissing, WaferGrammarError

if TYPE_CHECKING:
    from wafer_grammar.client.types import Pricing


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``tokenize`` and ``models`` subcommands to the main parser."""
    tok = subparsers.add_parser(
        "tokenize",
        help="print the token ids and pieces of a text or a chat prompt",
        description="Print the token ids and pieces of TEXT with a model's tokenizer.",
    )
    tok.add_argument(
        "--model",
        "-m",
        required=True,
        help="registry model ID, hub repo ID, tokenizer folder/file or .gguf",
    )
    tok.add_argument(
        "--chat", action="store_true", help="encode TEXT as a user message with the chat template"
    )
    tok.add_argument("--system", help="system message (with --chat)")
    tok.add_argument("--thinking", action="store_true", help="reasoning on (with --chat)")
    tok.add_argument("--prefill", help="start of the assistant reply (with --chat)")
    tok.add_argument(
        "--chat-template",
        type=Path,
        metavar="FILE",
        help="a Jinja chat template file that overrides the model's",
    )
    tok.add_argument(
        "--allow-special",
        action="store_true",
        help="control-token strings in TEXT become control tokens (not with --chat)",
    )
    tok.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="allow a hub tokenizer that runs code from its repo",
    )
    tok.add_argument("--json", action="store_true", help="print one JSON object")
    tok.add_argument("text", metavar="TEXT", help="the text; - reads standard input")
    tok.set_defaults(func=tokenize_command)

    models = subparsers.add_parser(
        "models",
        help="list models",
        description="List the API's models (its /v1/models cards: $WAFER_BASE_URL and "
        "$WAFER_API_KEY, or --base-url). --local lists the built-in registry instead.",
    )
    models.add_argument(
        "--local", action="store_true", help="list the local registry instead of asking the API"
    )
    models.add_argument("--base-url", help="a compatible server, e.g. http://127.0.0.1:8000/v1")
    models.add_argument("--json", action="store_true", help="print the registry as JSON")
    models.set_defaults(func=models_command)


def _show(piece: str) -> str:
    # Make whitespace visible; other characters (CJK, emoji) stay readable.
    return "'" + piece.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + "'"


def tokenize_command(args: argparse.Namespace) -> int:
    """Handler of ``wafer-grammar tokenize``."""
    from wafer_grammar.tokenize.loading import load_tokenizer

    text = sys.stdin.read() if args.text == "-" else args.text
    chat_only = [f for f in ("system", "prefill") if getattr(args, f) is not None]
    if args.thinking:
        chat_only.append("thinking")
    if not args.chat and chat_only:
        raise CommandError(f"--{chat_only[0]} needs --chat")
    if args.chat and args.allow_special:
        raise CommandError(
            "--allow-special does not apply to --chat (message text is always plain)"
        )
    try:
        tokenizer = load_tokenizer(
            args.model, chat_template=args.chat_template, trust_remote_code=args.trust_remote_code
        )
        rendered: str | None = None
        if args.chat:
            messages = [{"role": "system", "content": args.system}] if args.system else []
            messages.append({"role": "user", "content": text})
            prompt = tokenizer.encode_chat(messages, thinking=args.thinking, prefill=args.prefill)
            ids, rendered = prompt.ids, prompt.text
        else:
            ids = tokenizer.encode(text, allow_special=args.allow_special)
        pieces = tokenizer.pieces(ids)
    except ChatTemplateMissing as exc:
        raise CommandError(
            f"{exc.model!r} has no chat template ({exc.detail}); "
            "pass one with --chat-template FILE_OR_TEXT"
        ) from exc
    except WaferGrammarError as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        out: dict[str, Any] = {
            "model": tokenizer.name,
            "source": tokenizer.source,
            "count": len(ids),
            "ids": ids,
            "pieces": pieces,
        }
        if rendered is not None:
            out["text"] = rendered
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(f"{len(ids)} tokens ({tokenizer.name}, {tokenizer.source})")
    print(f"ids: {ids}")
    width = max((len(str(i)) for i in ids), default=1)
    for index, (token_id, piece) in enumerate(zip(ids, pieces, strict=True)):
        print(f"{index:>5}  {token_id:>{width}}  {_show(piece)}")
    return 0


def models_command(args: argparse.Namespace) -> int:
    """Handler of ``wafer-grammar models``."""
    from wafer_grammar.tokenize.registry import default_registry

    if not args.local:
        return _api_models(args)
    try:
        registry = default_registry()
    except WaferGrammarError as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print(registry.to_json(), end="")
        return 0
    header = ("MODEL", "TOKENIZER", "REASONING", "SWITCH", "CONTEXT")
    rows = [header] + [
        (
            e.id,
            e.tokenizer,
            e.reasoning,
            e.thinking_variable or "-",
            str(e.max_model_len) if e.max_model_len else "?",
        )
        for e in registry
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _api_models(args: argparse.Namespace) -> int:
    """The cards of ``/v1/models``: a table, or ``--json`` (the cards as the server sent them)."""
    from wafer_grammar.client.sync import WaferClient

    try:
        with WaferClient(base_url=args.base_url) as client:
            cards = client.models()
    except ValueError as exc:  # a base URL that is no URL
        raise CommandError(str(exc)) from exc
    if args.json:
        print(json.dumps([card.raw or {"id": card.id} for card in cards], indent=2))
        return 0
    header = ("MODEL", "CONTEXT", "ZDR", "CAPABILITIES", "PRICE IN/OUT/CACHE (cents/M)")
    rows = [header]
    for card in cards:
        caps = [n for n in ("tools", "reasoning", "vision") if getattr(card.capabilities, n)]
        rows.append(
            (
                card.id,
                str(card.max_model_len or card.context_length or "?"),
                "yes" if card.zdr_supported else "no",
                ",".join(caps) or "-",
                _price(card.pricing),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _price(price: Pricing | None) -> str:
    if price is None:
        return "-"
    cache = price.cache_read_cents_per_million
    return f"{price.input_cents_per_million:g}/{price.output_cents_per_million:g}/" + (
        "-" if cache is None else f"{cache:g}"
    )

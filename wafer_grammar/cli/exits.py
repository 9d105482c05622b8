"""Exit codes and the error format every ``wafer-grammar`` command shares.

``0`` fine; ``1`` the command ran and found problems (a failed check, a rejected
text, a batch with failed inputs); ``2`` it could not run (bad arguments, an
unreadable file, an invalid grammar, a model that cannot be loaded); ``130``
interrupted. Errors are one line on stderr, prefixed ``wafer-grammar:``.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
PREFIX = "wafer-grammar: "


class CommandError(Exception):
    """A problem that ends the command with exit code 2 and a one-line message."""


def print_error(message: object) -> None:
    """Print ``message`` on stderr in the commands' one error format."""
    print(f"{PREFIX}{message}", file=sys.stderr)


def read_text(path: str) -> str:
    """A UTF-8 file's text, or :class:`CommandError` naming the file and why."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CommandError(f"cannot read {path}: {reason}") from exc


def ignore_further_interrupts() -> None:
    """After the first Ctrl-C: ignore the next ones while the command cleans up.

    A second Ctrl-C during clean-up would otherwise cut it short (an engine thread
    left mid-step at interpreter exit aborts the process). :func:`main` restores
    the previous handler when it was called in-process.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)

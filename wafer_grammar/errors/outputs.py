"""Errors of completions that cannot be used (:mod:`wafer_grammar.decoding`) and of batch files."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass
from wafer_grammar.errors.core import OutputMismatch, WaferGrammarError, _caret, _restore

# -- decoding a completion (wafer_grammar.decoding) ----------------------------------------


class DecodeError(WaferGrammarError, ValueError):
    """A completion that cannot be turned into a value; ``layer`` says which check failed.

    Layers, in the order they run: ``"finish"`` (truncated), ``"grammar"``,
    ``"json"``, ``"schema"``, ``"model"``. ``text`` is the completion's text.
    """

    layer: str = ""

    def __init__(self, message: str, *, text: str) -> None:
        self.text = text
        super().__init__(f"{self.layer} layer: {message}")


class TruncatedOutput(DecodeError):
    """``finish_reason == "length"``: the output stopped at ``max_tokens``.

    ``viable_prefix`` is True when the text can still be extended to a member
    of the grammar (so a larger ``max_tokens`` would help), False when it has
    already left the language, None when no grammar could judge it.
    """

    layer = "finish"

    def __init__(self, *, text: str, viable_prefix: bool | None) -> None:
        self.viable_prefix = viable_prefix
        head = (
            f'output truncated at max_tokens (finish_reason "length") after {len(text)} characters'
        )
        if viable_prefix is None:
            tail = "; raise max_tokens"
        elif viable_prefix:
            tail = "; the text so far is a viable prefix of the grammar: raise max_tokens"
        else:
            tail = ", and the text so far is not a prefix of any string of the grammar"
        super().__init__(head + tail, text=text)


class ConstraintViolation(DecodeError):
    """The text is outside the grammar: the server's engine and ours disagree.

    ``offset``, ``line``, ``column`` and ``expected`` locate the first wrong
    character (from :class:`OutputMismatch`, kept as ``mismatch``).
    """

    layer = "grammar"

    def __init__(self, mismatch: OutputMismatch) -> None:
        self.mismatch = mismatch
        self.offset = mismatch.offset
        self.line = mismatch.line
        self.column = mismatch.column
        self.expected = mismatch.expected
        super().__init__(
            "the server returned text outside the grammar (its grammar engine and ours "
            f"disagree; report it with the grammar and this text): {mismatch}",
            text=mismatch.text,
        )


class GrammarIgnored(ConstraintViolation):
    """A grammar-constrained request came back ``finish_reason: "stop"`` outside the grammar.

    The server took the request but did not apply the grammar (vLLM and llama.cpp
    answer 200 and ignore fields they do not know): ``server`` is the client's
    profile and ``field`` where the grammar was sent.
    """

    def __init__(self, mismatch: OutputMismatch, *, server: str, field: str) -> None:
        super().__init__(mismatch)
        self.server = server
        self.field = field
        DecodeError.__init__(
            self,
            f"the server ignored the grammar: the answer ended normally outside it (profile "
            f"{server!r}, grammar sent as {field!r}; pick the profile that matches the server, "
            f"WaferClient(server=...)): {mismatch}",
            text=mismatch.text,
        )


class OutputNotJSON(DecodeError):
    """A JSON result was asked for but the text does not parse as JSON."""

    layer = "json"

    def __init__(self, *, text: str, reason: str, offset: int) -> None:
        self.offset = offset
        before = text[:offset]
        self.line = before.count("\n") + 1
        self.column = offset - (before.rfind("\n") + 1) + 1
        super().__init__(
            f"the text is not JSON: {reason} at line {self.line}, column {self.column}\n"
            f"{_caret(text, offset)}",
            text=text,
        )


class SchemaViolation(DecodeError):
    """The JSON value breaks the JSON Schema; ``errors`` lists ``(json_pointer, message)``."""

    layer = "schema"

    def __init__(self, *, text: str, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = list(errors)
        where, what = self.errors[0]
        more = len(self.errors) - 1
        extra = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        super().__init__(
            f"the value breaks the JSON Schema at {where or 'the root'}: {what}{extra}",
            text=text,
        )


class ModelValidationFailed(DecodeError):
    """The pydantic model refused the JSON value; ``errors`` is pydantic's error list."""

    layer = "model"

    def __init__(self, *, text: str, model_name: str, errors: Sequence[dict[str, Any]]) -> None:
        self.model_name = model_name
        self.errors = list(errors)
        first = self.errors[0]
        loc = ".".join(str(part) for part in first.get("loc", ())) or "the root"
        more = len(self.errors) - 1
        extra = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        super().__init__(
            f"{model_name} refused the value at {loc}: {first.get('msg', '')}{extra}",
            text=text,
        )


class LogprobsMissing(DecodeError):
    """Label probabilities were asked of a completion requested without ``logprobs``."""

    layer = "logprobs"


class PricingUnavailable(WaferGrammarError, LookupError):
    """The model's card carries no ``wafer.pricing``, so a cost cannot be computed."""


class BatchFileError(WaferGrammarError, ValueError):
    """A batch input or output file that cannot be used as it is.

    ``path`` is the file and ``line`` the 1-based line at fault (None for the whole file).
    """

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        where = f"{path}, line {line}" if line is not None else path
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> Any:
        return (_restore, (type(self), self.args, self.__dict__))


class UnmaskedLogprobs(DecodeError):
    """Logprobs that should be grammar-masked put probability on tokens the grammar forbids."""

    layer = "logprobs"

    def __init__(self, message: str) -> None:
        super().__init__(message, text="")


class InvalidInput(BatchFileError):
    """One batch input line that cannot be processed (not JSON, wrong types, text that is
    not valid Unicode...). The batch records it as that input's error and goes on."""


class OutputWriteFailed(WaferGrammarError, OSError):
    """The batch output could not be written (disk full, file too large, I/O error).

    ``path`` is the output, ``saved`` how many inputs have their record there (whole
    lines only), ``total`` how many inputs there are, ``errno`` the system's code. The
    run stops at once; running it again resumes after the last whole record.
    """

    def __init__(
        self, path: str, *, saved: int, total: int, written: int, errno: int | None, reason: str
    ) -> None:
        self.path = path
        self.saved = saved
        self.total = total
        self.written = written
        self.reason = reason
        # Exception.__init__ with one argument: OSError's (errno, strerror) form would
        # prefix "[Errno N]" to the message.
        Exception.__init__(
            self,
            f"cannot write to {path}: {reason}; {saved} of {total} records are saved there "
            f"({written} from this run); fix that and run the same command again to resume",
        )
        self.errno = errno

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> Any:
        # errno is OSError's slot, not in __dict__: rebuild from the fields instead
        rebuild = functools.partial(
            type(self),
            saved=self.saved,
            total=self.total,
            written=self.written,
            errno=self.errno,
            reason=self.reason,
        )
        return (rebuild, (self.path,))


__all__ = [
    "BatchFileError",
    "ConstraintViolation",
    "DecodeError",
    "GrammarIgnored",
    "InvalidInput",
    "LogprobsMissing",
    "ModelValidationFailed",
    "OutputNotJSON",
    "OutputWriteFailed",
    "PricingUnavailable",
    "SchemaViolation",
    "TruncatedOutput",
    "UnmaskedLogprobs",
]

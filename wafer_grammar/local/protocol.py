"""Request validation for the local server: Wafer's fields, checked and typed, nothing ignored.

Every row of Wafer's chat request table is honoured or refused with a 400 that
names it (``param``) and says why, as Wafer does; a field outside the table is
refused (``unsupported_parameter``) rather than silently dropped. An explicit
``null`` counts as absent. Reasoning controls that turn reasoning off are
honoured (reasoning is off by default); turning it on is checked against the
model once it is known (:meth:`App.start`). ``chat_template_kwargs`` is not a
Wafer field: it is kept for SGLang-style clients, but only its reasoning
switches (``enable_thinking``, ``thinking``); any other key is a 400, since
the model's template reads no other variable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wafer_grammar.errors import InvalidRequest
from wafer_grammar.local.json_limits import check_document, too_deep
from wafer_grammar.local.params import SamplingParams
from wafer_grammar.local.tools import ToolPlan, parse_tools

_SAMPLING = (
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "frequency_penalty",
    "presence_penalty",
    "repetition_penalty",
    "logit_bias",
    "seed",
    "stop",
    "n",
)
COMPLETION_FIELDS = frozenset(
    {"model", "prompt", "ebnf", "max_tokens", "logprobs", "stream", "stream_options", *_SAMPLING}
)
REASONING_FIELDS = ("thinking", "reasoning_effort", "enable_thinking", "preserve_thinking")
REASONING_EFFORTS = ("none", "low", "medium", "high", "max")
CHAT_FIELDS = frozenset(
    {
        # Wafer's chat request table, every row
        "model",
        "messages",
        "max_tokens",
        "stream",
        "stream_options",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "logprobs",
        "top_logprobs",
        *REASONING_FIELDS,
        *_SAMPLING,
        # beyond the table: SGLang's grammar field, OpenAI's newer max_tokens name,
        # and the reasoning switches of chat_template_kwargs (see the module doc)
        "ebnf",
        "max_completion_tokens",
        "chat_template_kwargs",
    }
)
STREAM_OPTIONS = ("include_usage", "continuous_usage_stats")
DEFAULT_COMPLETION_MAX_TOKENS = 16
"""OpenAI's default for ``/v1/completions``; chat defaults to the rest of the context."""

# response_format {"type": "json_object"}: any JSON object. Whitespace runs are
# bounded: a small model left free to emit whitespace may never stop.
JSON_OBJECT_EBNF = r"""root ::= object
value ::= object | array | string | number | "true" | "false" | "null"
object ::= "{" ws (member ("," ws member)*)? "}"
member ::= string ws ":" ws value ws
array ::= "[" ws (value ws ("," ws value ws)*)? "]"
string ::= "\"" char* "\""
char ::= [^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
number ::= "-"? ("0" | [1-9] [0-9]*) ("." [0-9]+)? ([eE] [+-]? [0-9]+)?
ws ::= [ \t\n]{0,16}
"""


@dataclass
class Request:
    """A validated request to ``/v1/completions`` or ``/v1/chat/completions``."""

    chat: bool
    model: str
    prompt: str | list[int] | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    thinking: bool = False
    thinking_field: str | None = None
    """The field that turned reasoning on (named in the refusal when the model cannot)."""
    tools: ToolPlan | None = None
    ebnf: str | None = None
    max_tokens: int | None = None
    """None: the endpoint's default (16 for completions, the rest of the context for chat)."""
    sampling: dict[str, Any] = field(default_factory=dict)
    logprobs: bool = False
    top_logprobs: int = 0
    stream: bool = False
    include_usage: bool = True
    """Streams end with a usage chunk (always for chat: Wafer forces it and its value wins)."""
    continuous_usage: bool = False
    """Usage on every chunk (always for chat, as Wafer forces ``continuous_usage_stats``)."""

    def params(self, *, prompt_tokens: int, max_model_len: int, max_n: int) -> SamplingParams:
        """The sampling parameters, with ``max_tokens`` defaulted for this endpoint."""
        max_tokens = self.max_tokens
        if max_tokens is None:
            max_tokens = (
                max(1, max_model_len - prompt_tokens)
                if self.chat
                else DEFAULT_COMPLETION_MAX_TOKENS
            )
        return SamplingParams(
            max_tokens=max_tokens,
            logprobs=self.logprobs,
            top_logprobs=self.top_logprobs,
            max_n=max_n,
            **self.sampling,
        )


def parse_json(body: bytes | bytearray) -> dict[str, Any]:
    """The request body as a JSON object, within :mod:`.json_limits`' limits."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest(f"the request body is not valid JSON: {exc}") from exc
    except RecursionError:
        raise too_deep(body) from None
    if not isinstance(doc, dict):
        raise InvalidRequest("the request body must be a JSON object")
    check_document(doc)
    return doc


def parse_completion(doc: Mapping[str, Any]) -> Request:
    """Validate a ``/v1/completions`` body."""
    doc = _present(doc, COMPLETION_FIELDS)
    req = Request(chat=False, model=_model(doc))
    if "prompt" not in doc:
        raise InvalidRequest("prompt is required", param="prompt")
    prompt = doc["prompt"]
    if isinstance(prompt, list) and prompt and all(isinstance(p, (list, str)) for p in prompt):
        raise InvalidRequest(
            "prompt must be one prompt (a string or a list of token ids); send batched "
            "prompts as separate requests",
            param="prompt",
        )
    if not isinstance(prompt, (str, list)):
        raise InvalidRequest("prompt must be a string or a list of token ids", param="prompt")
    req.prompt = prompt
    logprobs = doc.get("logprobs")
    if logprobs is not None:
        req.logprobs = True
        req.top_logprobs = _int(logprobs, "logprobs")
    _common(doc, req)
    return req


def parse_chat(doc: Mapping[str, Any], *, json_schema_grammar: Any = None) -> Request:
    """Validate a ``/v1/chat/completions`` body.

    ``json_schema_grammar(schema) -> ebnf`` converts ``response_format``'s schema;
    None when no converter is installed (such a request is then refused).
    """
    doc = _present(doc, CHAT_FIELDS)
    req = Request(chat=True, model=_model(doc))
    messages = doc.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages must be a non-empty list of messages", param="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidRequest(f"messages[{i}] must be an object", param="messages")
    req.messages = messages
    if "max_tokens" in doc and "max_completion_tokens" in doc:
        raise InvalidRequest(
            "give max_tokens or max_completion_tokens, not both", param="max_completion_tokens"
        )
    if "max_completion_tokens" in doc:
        req.max_tokens = _int(doc["max_completion_tokens"], "max_completion_tokens")
    if "logprobs" in doc:
        if not isinstance(doc["logprobs"], bool):
            raise InvalidRequest("logprobs must be true or false", param="logprobs")
        req.logprobs = doc["logprobs"]
    if "top_logprobs" in doc:
        if not req.logprobs:
            raise InvalidRequest("top_logprobs needs logprobs: true", param="top_logprobs")
        req.top_logprobs = _int(doc["top_logprobs"], "top_logprobs")
    _reasoning(doc, req)
    req.tools = parse_tools(doc)
    _common(doc, req)
    if "response_format" in doc:
        grammar = _response_format(doc["response_format"], json_schema_grammar)
        if grammar is not None and req.ebnf is not None:
            raise InvalidRequest(
                "give ebnf or a response_format grammar, not both", param="response_format"
            )
        req.ebnf = grammar if grammar is not None else req.ebnf
    if req.tools is not None and req.tools.must_call and req.ebnf is not None:
        raise InvalidRequest(
            "tool_choice asks for a tool call, which leaves no room for a "
            "response_format (or ebnf) answer; use tool_choice auto",
            param="tool_choice",
        )
    if req.stream:
        # Wafer sets {"include_usage": true, "continuous_usage_stats": true} on every
        # streaming chat completion, and its values win over the request's.
        req.include_usage = req.continuous_usage = True
    return req


def _reasoning(doc: Mapping[str, Any], req: Request) -> None:
    """The reasoning controls; off is a no-op (the default), on is remembered with its field."""
    on: list[str] = []
    if "thinking" in doc:
        value = doc["thinking"]
        if isinstance(value, dict):
            kind = value.get("type")
            extra = set(value) - {"type", "keep"}
            if kind not in ("enabled", "disabled") or extra:
                raise InvalidRequest(
                    'thinking must be {"type": "enabled"} or {"type": "disabled"} '
                    '(optionally with "keep": "all"), or true/false',
                    param="thinking",
                )
            if "keep" in value and (value["keep"] != "all" or kind != "enabled"):
                raise InvalidRequest(
                    'thinking keep must be "all", with type "enabled"', param="thinking"
                )
            enabled = kind == "enabled"
        elif isinstance(value, bool):
            enabled = value
        else:
            raise InvalidRequest(
                'thinking must be {"type": "enabled"}, {"type": "disabled"}, true or false',
                param="thinking",
            )
        if enabled:
            on.append("thinking")
    if "reasoning_effort" in doc:
        effort = doc["reasoning_effort"]
        if effort not in REASONING_EFFORTS:
            raise InvalidRequest(
                f"reasoning_effort must be one of {', '.join(REASONING_EFFORTS)}, not {effort!r}",
                param="reasoning_effort",
            )
        if effort != "none":
            on.append("reasoning_effort")
    for name in ("enable_thinking", "preserve_thinking"):
        if name in doc:
            if not isinstance(doc[name], bool):
                raise InvalidRequest(f"{name} must be true or false", param=name)
            if doc[name]:
                on.append(name)
    kwargs = doc.get("chat_template_kwargs", {})
    if not isinstance(kwargs, dict):
        raise InvalidRequest("chat_template_kwargs must be an object", param="chat_template_kwargs")
    for key, value in kwargs.items():
        if key not in ("enable_thinking", "thinking"):
            raise InvalidRequest(
                f"chat_template_kwargs.{key} is not supported: only the reasoning switches "
                "enable_thinking and thinking are (chat_template_kwargs is not a Wafer field; "
                "use the request table's reasoning controls)",
                param="chat_template_kwargs",
            )
        if not isinstance(value, bool):
            raise InvalidRequest(
                f"chat_template_kwargs.{key} must be true or false", param="chat_template_kwargs"
            )
        if value:
            on.append("chat_template_kwargs")
    if on:
        req.thinking, req.thinking_field = True, on[0]


def _present(doc: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """The fields that are set (null counts as absent); unknown ones are refused."""
    present = {k: v for k, v in doc.items() if v is not None}
    for name in sorted(present):
        if name not in allowed:
            raise InvalidRequest(
                f"unsupported parameter {name!r}: the local engine does not implement it "
                "(Wafer refuses what it would not honour)",
                param=name,
                code="unsupported_parameter",
            )
    return present


def _model(doc: Mapping[str, Any]) -> str:
    model = doc.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("model is required (a model ID from GET /v1/models)", param="model")
    return model


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{name} must be an integer, not {value!r}", param=name)
    return value


def _common(doc: Mapping[str, Any], req: Request) -> None:
    if "ebnf" in doc:
        if not isinstance(doc["ebnf"], str):
            raise InvalidRequest("ebnf must be a string (the grammar's text)", param="ebnf")
        req.ebnf = doc["ebnf"]
    if "max_tokens" in doc:
        req.max_tokens = _int(doc["max_tokens"], "max_tokens")
    req.sampling = {k: doc[k] for k in _SAMPLING if k in doc}
    if "stream" in doc:
        if not isinstance(doc["stream"], bool):
            raise InvalidRequest("stream must be true or false", param="stream")
        req.stream = doc["stream"]
    options = doc.get("stream_options")
    if options is not None:
        if not req.stream:
            raise InvalidRequest("stream_options needs stream: true", param="stream_options")
        if not isinstance(options, dict) or set(options) - set(STREAM_OPTIONS):
            raise InvalidRequest(
                'stream_options takes only {"include_usage": true|false, '
                '"continuous_usage_stats": true|false}',
                param="stream_options",
            )
        for key in STREAM_OPTIONS:
            if key in options and not isinstance(options[key], bool):
                raise InvalidRequest(
                    f"stream_options.{key} must be true or false", param="stream_options"
                )
        req.include_usage = options.get("include_usage", True)
        req.continuous_usage = options.get("continuous_usage_stats", False)
    # Checked here, not only when decoding starts, so a bad value fails before any work.
    req.params(prompt_tokens=1, max_model_len=2**31, max_n=2**31)


def _response_format(value: Any, json_schema_grammar: Any) -> str | None:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise InvalidRequest(
            'response_format must be an object with a "type"', param="response_format"
        )
    kind = value["type"]
    if kind == "text":
        return None
    if kind == "json_object":
        return JSON_OBJECT_EBNF
    if kind != "json_schema":
        raise InvalidRequest(
            f"response_format type {kind!r} is not supported (text, json_object, json_schema)",
            param="response_format",
        )
    spec = value.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
        raise InvalidRequest(
            'response_format json_schema needs {"json_schema": {"schema": {...}}}',
            param="response_format",
        )
    if json_schema_grammar is None:
        raise InvalidRequest(
            "response_format json_schema needs the JSON Schema converter "
            "(Grammar.from_json_schema, wafer_grammar.convert), which this installation "
            "lacks; send the grammar as ebnf instead",
            param="response_format",
            code="unsupported_parameter",
        )
    try:
        ebnf: str = json_schema_grammar(spec["schema"])
    except ValueError as exc:  # the converter's errors are ValueErrors (UnsupportedSchema...)
        raise InvalidRequest(
            f"response_format json_schema: {exc}", param="response_format"
        ) from exc
    except RecursionError:  # the converter recurses per level (the body's depth is capped)
        raise InvalidRequest(
            "response_format json_schema nests too deeply to convert", param="response_format"
        ) from None
    return ebnf

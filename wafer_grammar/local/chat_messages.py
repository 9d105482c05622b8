"""Chat messages as the engine's chat template can render them.

SmolLM2's template concatenates ``role`` and ``content`` strings and knows nothing
of tools. So before rendering: content given as a list of parts becomes its text;
an assistant turn's ``tool_calls`` are written out in the layout the model is told
to call tools in (``<tool_call>...</tool_call>``, see :mod:`.tools`); a ``tool``
result is wrapped in ``<tool_response>`` with the function's name; the tool
definitions go into the system message. Anything that cannot be rendered
faithfully is a 400 naming ``messages``, never a Python error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from wafer_grammar.errors import InvalidRequest
from wafer_grammar.local.tools import CALL_CLOSE, CALL_OPEN

ROLES = ("system", "developer", "user", "assistant", "tool")
MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "tool_calls", "tool_call_id", "reasoning_content", "refusal"}
)


def _bad(message: str) -> InvalidRequest:
    return InvalidRequest(message, param="messages")


def content_text(content: Any, where: str) -> str:
    """A message's content as text: a string, or the text of a list of text parts."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _bad(f"{where}.content must be a string or a list of content parts")
    texts = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise _bad(f'{where}.content[{j}] must be an object with a "type"')
        if part["type"] != "text":
            raise _bad(
                f"{where}.content[{j}] is of type {part['type']!r}: this model takes text "
                "only (wafer.capabilities.vision is false)"
            )
        if not isinstance(part.get("text"), str):
            raise _bad(f'{where}.content[{j}] needs a "text" string')
        texts.append(part["text"])
    return "".join(texts)


def _call_text(call: Any, where: str, names: dict[str, str]) -> str:
    if (
        not isinstance(call, dict)
        or call.get("type", "function") != "function"
        or not isinstance(call.get("function"), dict)
    ):
        raise _bad(f'{where} must be {{"type": "function", "function": {{...}}}}')
    fn = call["function"]
    name, arguments = fn.get("name"), fn.get("arguments", "{}")
    if not isinstance(name, str) or not isinstance(arguments, str):
        raise _bad(f"{where}.function needs a name and arguments (a JSON string)")
    try:
        parsed = json.loads(arguments)
    except ValueError:
        raise _bad(f"{where}.function.arguments is not valid JSON: {arguments[:80]!r}") from None
    if isinstance(call.get("id"), str):
        names[call["id"]] = name
    body = json.dumps({"name": name, "arguments": parsed}, ensure_ascii=False)
    return f"{CALL_OPEN}\n{body}\n{CALL_CLOSE}"


def for_template(
    messages: Sequence[Mapping[str, Any]], *, tools_text: str | None = None
) -> list[dict[str, str]]:
    """``messages`` as plain ``{"role", "content"}`` strings, tools written in.

    ``tools_text`` (the tool definitions, as the prompt gives them) is added to the
    system message, or becomes one. Earlier turns' ``reasoning_content`` is left
    out: reasoning is not preserved across turns unless asked, and this model
    does not reason.
    """
    out: list[dict[str, str]] = []
    names: dict[str, str] = {}  # tool_call_id -> function name, for the results
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        extra = set(message) - MESSAGE_KEYS
        if extra:
            raise _bad(f"{where} has unknown fields: {', '.join(sorted(extra))}")
        role = message.get("role")
        if role not in ROLES:
            raise _bad(f"{where}.role must be one of {', '.join(ROLES)}, not {role!r}")
        content = message.get("content")
        calls = message.get("tool_calls")
        if role == "assistant":
            text = "" if content is None else content_text(content, where)
            if calls is not None:
                if not isinstance(calls, list):
                    raise _bad(f"{where}.tool_calls must be a list")
                written = [
                    _call_text(c, f"{where}.tool_calls[{j}]", names) for j, c in enumerate(calls)
                ]
                text = "\n".join(([text] if text else []) + written)
            elif content is None:
                raise _bad(f"{where} has neither content nor tool_calls")
        else:
            if calls is not None:
                raise _bad(f"{where}: only assistant messages carry tool_calls")
            if content is None:
                raise _bad(f"{where}.content is required for role {role!r}")
            text = content_text(content, where)
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str):
                raise _bad(f"{where} (a tool result) needs tool_call_id")
            name = names.get(call_id) or message.get("name")
            result = {"name": name, "content": text} if name else {"content": text}
            text = f"<tool_response>\n{json.dumps(result, ensure_ascii=False)}\n</tool_response>"
        out.append({"role": "system" if role == "developer" else str(role), "content": text})
    if tools_text:
        if out and out[0]["role"] == "system":
            out[0] = {"role": "system", "content": out[0]["content"] + "\n\n" + tools_text}
        else:
            out.insert(0, {"role": "system", "content": tools_text})
    return out

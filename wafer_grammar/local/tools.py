"""Tool calling on the embedded engine: OpenAI's ``tools`` as a grammar, and back as calls.

The model writes a call as ``<tool_call>\\n{"name": NAME, "arguments": ARGS}\\n</tool_call>``
(the Hermes/Qwen layout, which the prompt describes). The grammar allows exactly
that, with ``ARGS`` constrained by the tool's JSON Schema through our own converter
(:meth:`Grammar.from_json_schema`), so a returned call always validates. With
``tool_choice: "auto"`` the grammar also allows an ordinary answer, which then must
not start with ``<tool_call>``: the model chooses, and the first characters say which.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    MacroCall,
    MacroName,
    MacroTuple,
    MacroValue,
    Repeat,
    Rule,
    RuleRef,
    Sequence,
)
from wafer_grammar.errors import InvalidRequest

CALL_OPEN = "<tool_call>"
CALL_CLOSE = "</tool_call>"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CALL = re.compile(re.escape(CALL_OPEN) + r"\n(.*?)\n" + re.escape(CALL_CLOSE), re.DOTALL)
EMPTY_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {},
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Tool:
    """One function the model may call."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class ToolPlan:
    """A request's tools, ``tool_choice`` and ``parallel_tool_calls``, checked."""

    tools: tuple[Tool, ...]
    choice: str = "auto"
    """``none``, ``auto``, ``required``, or ``function`` (then :attr:`forced` names it)."""
    forced: str | None = None
    parallel: bool = True

    @property
    def active(self) -> bool:
        """Whether the model may (or must) call a tool."""
        return bool(self.tools) and self.choice != "none"

    @property
    def must_call(self) -> bool:
        return self.choice in ("required", "function")

    def callable_tools(self) -> tuple[Tool, ...]:
        if self.forced is not None:
            return tuple(t for t in self.tools if t.name == self.forced)
        return self.tools

    def system_text(self) -> str:
        """The tools as the prompt describes them (the template knows no tools)."""
        lines = [
            "You can call these functions (each given as JSON: name, description, "
            "JSON Schema of its arguments):"
        ]
        for tool in self.tools:
            lines.append(
                json.dumps(
                    {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    },
                    ensure_ascii=False,
                )
            )
        lines.append(
            f'To call a function, reply with {CALL_OPEN}\\n{{"name": <function name>, '
            f'"arguments": <arguments as a JSON object>}}\\n{CALL_CLOSE}'
            + (" (one block per call)." if self.parallel else " (one call at most).")
        )
        if self.forced is not None:
            lines.append(f"Call the function {self.forced} now.")
        elif self.choice == "required":
            lines.append("You must call a function now.")
        elif self.choice == "none":
            lines.append("Do not call a function now: answer in text.")
        return "\n".join(lines)

    def grammar(self, text_grammar: str | None, convert: Any) -> str:
        """The EBNF of an answer: calls only (``required``/named), or calls or text (``auto``).

        ``text_grammar`` constrains the text answer (``response_format``), None for free
        text; ``convert(schema) -> Grammar`` is the JSON Schema converter.
        """
        rules: list[Rule] = []
        calls: list[Expr] = []
        for i, tool in enumerate(self.callable_tools()):
            args = _converted(tool, convert)
            prefix = f"tool{i}-"
            rules.extend(_renamed(args, prefix))
            head = f'{CALL_OPEN}\n{{"name": "{tool.name}", "arguments": '
            calls.append(
                Sequence((Literal(head), RuleRef(prefix + args.root), Literal(f"}}\n{CALL_CLOSE}")))
            )
        call: Expr = calls[0] if len(calls) == 1 else Choice(tuple(calls))
        rules.append(Rule("tool-call", call))
        body: Expr = RuleRef("tool-call")
        if self.parallel:
            body = Sequence(
                (body, Repeat(Sequence((Literal("\n"), RuleRef("tool-call"))), 0, None))
            )
        rules.append(Rule("tool-calls", body))
        if self.must_call:
            root: Expr = RuleRef("tool-calls")
        else:
            if text_grammar is None:
                rules.extend(_free_text())
            else:
                from wafer_grammar.grammar import Grammar

                text = Grammar.from_ebnf(text_grammar).ast
                rules.extend(_renamed(text, "text-"))
                rules.append(Rule("text", RuleRef("text-" + text.root)))
            root = Choice((RuleRef("tool-calls"), RuleRef("text")))
        rules.insert(0, Rule("root", root))
        from wafer_grammar.ebnf.render import render_ebnf

        return render_ebnf(GrammarAST(tuple(rules), root="root"))


def _free_text() -> list[Rule]:
    """Any text that does not start with ``<tool_call>`` (so it cannot be read as a call).

    ``text`` ::= "" | [^<] [^]* | "<" text1, and so on along the marker; the last
    step has no way on, so the marker itself (and anything after it) is out.
    """
    anything = Repeat(CharClass((), negated=True), 0, None)  # [^]*
    rules = []
    for k, char in enumerate(CALL_OPEN):
        other = Sequence((CharClass(((ord(char), ord(char)),), negated=True), anything))
        alternatives: list[Expr] = [Literal(""), other]
        if k + 1 < len(CALL_OPEN):
            alternatives.append(Sequence((Literal(char), RuleRef(f"text{k + 1}"))))
        rules.append(Rule("text" if k == 0 else f"text{k}", Choice(tuple(alternatives))))
    return rules


def _converted(tool: Tool, convert: Any) -> GrammarAST:
    try:
        grammar = convert(dict(tool.parameters))
    except ValueError as exc:  # UnsupportedSchema and friends
        raise InvalidRequest(
            f"tools: the parameters of {tool.name!r} cannot be enforced: {exc}", param="tools"
        ) from exc
    ast: GrammarAST = grammar.ast
    return ast


def _renamed(ast: GrammarAST, prefix: str) -> list[Rule]:
    """``ast``'s rules with every name (and reference) prefixed, to live beside others."""
    return [
        replace(
            rule,
            name=prefix + rule.name,
            body=_rename(rule.body, prefix),
            lookahead=None if rule.lookahead is None else _rename(rule.lookahead, prefix),
        )
        for rule in ast.rules
    ]


def _rename(expr: Expr, prefix: str) -> Expr:
    if isinstance(expr, RuleRef):
        return replace(expr, name=prefix + expr.name)
    if isinstance(expr, Sequence):
        return replace(expr, items=tuple(_rename(e, prefix) for e in expr.items))
    if isinstance(expr, Choice):
        return replace(expr, alternatives=tuple(_rename(e, prefix) for e in expr.alternatives))
    if isinstance(expr, Repeat):
        return replace(expr, item=_rename(expr.item, prefix))
    if isinstance(expr, MacroCall):
        return replace(
            expr,
            args=tuple(_rename_value(v, prefix) for v in expr.args),
            kwargs=tuple((k, _rename_value(v, prefix)) for k, v in expr.kwargs),
        )
    return expr


def _rename_value(value: MacroValue, prefix: str) -> MacroValue:
    if isinstance(value, MacroName) and value.name not in ("true", "false"):
        return replace(value, name=prefix + value.name)
    if isinstance(value, MacroTuple):
        return replace(value, items=tuple(_rename_value(v, prefix) for v in value.items))
    return value


# ---------------------------------------------------------------- the request fields


def parse_tools(doc: Mapping[str, Any]) -> ToolPlan | None:
    """``tools``, ``tool_choice`` and ``parallel_tool_calls`` of a chat body (None: no tools)."""
    parallel = doc.get("parallel_tool_calls", True)
    if not isinstance(parallel, bool):
        raise InvalidRequest(
            f"parallel_tool_calls must be true or false, not {parallel!r}",
            param="parallel_tool_calls",
        )
    raw = doc.get("tools")
    if raw is None:
        if "tool_choice" in doc and doc["tool_choice"] != "none":
            raise InvalidRequest(
                "tool_choice needs tools: give the functions the model may call",
                param="tool_choice",
            )
        return None
    if not isinstance(raw, list):
        raise InvalidRequest("tools must be a list of function definitions", param="tools")
    tools = tuple(_tool(i, t) for i, t in enumerate(raw))
    names = [t.name for t in tools]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise InvalidRequest(f"tools: the function name {dup!r} is given twice", param="tools")
    choice, forced = _choice(doc.get("tool_choice"), names)
    if not tools and choice != "none":
        choice = "none"  # an empty list offers nothing to call
        if forced is not None or doc.get("tool_choice") == "required":
            raise InvalidRequest(
                "tool_choice asks for a call but tools is empty", param="tool_choice"
            )
    return ToolPlan(tools, choice, forced, parallel)


def _tool(i: int, value: Any) -> Tool:
    where = f"tools[{i}]"
    if not isinstance(value, dict) or value.get("type") != "function":
        raise InvalidRequest(
            f'{where} must be {{"type": "function", "function": {{...}}}}', param="tools"
        )
    extra = set(value) - {"type", "function"}
    if extra:
        raise InvalidRequest(
            f"{where} has unknown fields: {', '.join(sorted(extra))}", param="tools"
        )
    fn = value.get("function")
    if not isinstance(fn, dict):
        raise InvalidRequest(f"{where}.function must be an object", param="tools")
    extra = set(fn) - {"name", "description", "parameters", "strict"}
    if extra:
        raise InvalidRequest(
            f"{where}.function has unknown fields: {', '.join(sorted(extra))}", param="tools"
        )
    name = fn.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidRequest(
            f"{where}.function.name must be 1 to 64 letters, digits, _ or -, not {name!r}",
            param="tools",
        )
    description = fn.get("description", "")
    if not isinstance(description, str):
        raise InvalidRequest(f"{where}.function.description must be a string", param="tools")
    parameters = fn.get("parameters", EMPTY_PARAMETERS)
    if not isinstance(parameters, dict):
        raise InvalidRequest(
            f"{where}.function.parameters must be a JSON Schema object", param="tools"
        )
    if "strict" in fn and not isinstance(fn["strict"], bool):
        raise InvalidRequest(f"{where}.function.strict must be true or false", param="tools")
    # strict or not, the arguments are always enforced: strict=true is what we do anyway.
    return Tool(name, description, parameters)


def _choice(value: Any, names: list[str]) -> tuple[str, str | None]:
    if value is None:
        return "auto", None
    if value in ("none", "auto", "required"):
        return str(value), None
    if (
        isinstance(value, dict)
        and value.get("type") == "function"
        and isinstance(value.get("function"), dict)
        and isinstance(value["function"].get("name"), str)
    ):
        name = value["function"]["name"]
        if name not in names:
            raise InvalidRequest(
                f"tool_choice names the function {name!r}, which is not in tools",
                param="tool_choice",
            )
        return "function", name
    raise InvalidRequest(
        'tool_choice must be "none", "auto", "required" or '
        '{"type": "function", "function": {"name": ...}}, not ' + repr(value),
        param="tool_choice",
    )


# ---------------------------------------------------------------- answers


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def parse_calls(text: str) -> list[dict[str, Any]] | None:
    """The calls in a generated answer, OpenAI-shaped; None when it is not (wholly) calls."""
    if not text.startswith(CALL_OPEN):
        return None
    found = list(_CALL.finditer(text))
    covered = "\n".join(m.group(0) for m in found)
    if not found or covered != text:
        return None  # cut short (max_tokens, a stop string): not a whole call
    calls = []
    for match in found:
        try:
            doc = json.loads(match.group(1))
        except ValueError:
            return None
        if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
            return None
        calls.append(
            {
                "id": new_call_id(),
                "type": "function",
                "function": {
                    "name": doc["name"],
                    "arguments": json.dumps(doc.get("arguments", {}), ensure_ascii=False),
                },
            }
        )
    return calls


class CallBuffer:
    """Splits one streamed choice into text deltas or held-back calls.

    While the text could still be the start of ``<tool_call>`` it is held; once it
    is known to be ordinary text it streams. A call is held whole, so it can be
    sent in one chunk (as Wafer sends tool calls).
    """

    def __init__(self, must_call: bool) -> None:
        self.held = ""
        self.state = "calls" if must_call else "undecided"

    def feed(self, text: str) -> str:
        """Text that may be streamed now."""
        if self.state == "text":
            return text
        self.held += text
        if self.state == "undecided":
            if self.held.startswith(CALL_OPEN):
                self.state = "calls"
            elif not CALL_OPEN.startswith(self.held):
                self.state = "text"
                out, self.held = self.held, ""
                return out
        return ""

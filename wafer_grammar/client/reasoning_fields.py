"""Reasoning controls in the shapes Wafer's request table documents, checked before sending.

The table has four fields, all top-level: ``thinking`` (``{"type": "enabled" |
"disabled"}``, optionally ``"keep": "all"`` on Kimi-K2.6 and GLM-5.1),
``reasoning_effort`` (``none | low | medium | high | max``), ``enable_thinking``
(bool) and ``preserve_thinking`` (bool, Kimi-K2.6 and GLM-5.1). Nothing goes under
``chat_template_kwargs``: that is not a Wafer field (and Kimi-K2.6's non-ZDR route,
Moonshot's hosted API, has no template to apply it to). Reasoning is off by default
on every model, so turning it off is always accepted; turning it on for a model
that does not reason is refused here, before a request is spent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wafer_grammar.errors import BadRequest, ThinkingUnsupported

REASONING_EFFORTS = ("none", "low", "medium", "high", "max")
PRESERVES_THINKING = frozenset({"kimi-k2.6", "glm-5.1"})
"""Models (case-folded IDs) that accept ``preserve_thinking`` / ``"keep": "all"``."""


@dataclass(frozen=True, kw_only=True)
class Reasoning:
    """A chat call's reasoning keywords (None: not sent)."""

    thinking: bool | Mapping[str, Any] | None = None
    """True/False, sent as ``{"type": "enabled" | "disabled"}``; or that object as given."""
    keep_thinking: bool | None = None
    """Carry earlier turns' ``reasoning_content`` into the prompt (Kimi-K2.6, GLM-5.1)."""
    preserve_thinking: bool | None = None
    """The same, under its Wafer field name."""
    enable_thinking: bool | None = None
    reasoning_effort: str | None = None

    def enables(self) -> bool:
        """Whether these keywords turn reasoning on."""
        on = self.thinking is True or (
            isinstance(self.thinking, Mapping) and self.thinking.get("type") == "enabled"
        )
        effort = self.reasoning_effort not in (None, "none")
        return on or effort or self.enable_thinking is True

    def fields(self, model: str, *, reasons: bool | None) -> dict[str, Any]:
        """The wire fields for ``model``.

        Parameters:
            model: the model ID.
            reasons: whether the model can reason (its card's
                ``wafer.capabilities.reasoning``, else the registry's word); None
                when neither knows the model (the server then decides).

        Raises:
            BadRequest: a value the table does not allow (``.param`` names the field).
            ThinkingUnsupported: reasoning turned on for a model that does not reason.
        """
        out: dict[str, Any] = {}
        if self.thinking is not None:
            out["thinking"] = _thinking(self.thinking, model)
        keep = [v for v in (self.keep_thinking, self.preserve_thinking) if v is not None]
        if len(set(keep)) > 1:
            raise BadRequest(
                "keep_thinking and preserve_thinking disagree; give one of them",
                param="preserve_thinking",
            )
        if keep:
            _flag("preserve_thinking", keep[0])
            if keep[0] and not _preserves(model):
                raise BadRequest(
                    f"preserve_thinking is supported on Kimi-K2.6 and GLM-5.1, not {model!r}",
                    param="preserve_thinking",
                )
            out["preserve_thinking"] = keep[0]
        if self.enable_thinking is not None:
            out["enable_thinking"] = _flag("enable_thinking", self.enable_thinking)
        if self.reasoning_effort is not None:
            if self.reasoning_effort not in REASONING_EFFORTS:
                raise BadRequest(
                    f"reasoning_effort must be one of {', '.join(REASONING_EFFORTS)}, "
                    f"not {self.reasoning_effort!r}",
                    param="reasoning_effort",
                )
            out["reasoning_effort"] = self.reasoning_effort
        if reasons is False and self.enables():
            raise ThinkingUnsupported(
                f"model {model!r} does not reason (wafer.capabilities.reasoning is false): "
                "drop the reasoning switch, or pick a reasoning-capable model"
            )
        return out


def _preserves(model: str) -> bool:
    return model.casefold() in PRESERVES_THINKING


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be true or false, not {value!r}", param=name)
    return value


def _thinking(value: bool | Mapping[str, Any], model: str) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "enabled" if value else "disabled"}
    if not isinstance(value, Mapping) or value.get("type") not in ("enabled", "disabled"):
        raise BadRequest(
            'thinking must be true, false, {"type": "enabled"} or {"type": "disabled"}, '
            f"not {value!r}",
            param="thinking",
        )
    extra = set(value) - {"type", "keep"}
    if extra:
        raise BadRequest(
            f"thinking takes only type and keep, not {', '.join(sorted(extra))}", param="thinking"
        )
    if "keep" in value:
        if value["keep"] != "all" or value["type"] != "enabled":
            raise BadRequest('thinking keep must be "all", with type "enabled"', param="thinking")
        if not _preserves(model):
            raise BadRequest(
                f'thinking {{"keep": "all"}} is supported on Kimi-K2.6 and GLM-5.1, not {model!r}',
                param="thinking",
            )
    return dict(value)

"""The :class:`Tokenizer`: exact ids for text and for chat prompts.

Text and special tokens
-----------------------
``encode(text)`` treats the whole text as *plain text*: a control-token string
such as ``<|im_start|>`` or DeepSeek's ``<｜User｜>`` typed in the text is
encoded as the ordinary tokens that spell it, never as the control token. Pass
``allow_special=True`` for the ``tokenizers`` default, where such strings
become their control tokens (what ``Tokenizer.from_file(...).encode`` gives).
``encode`` never adds BOS/EOS: chat templates write those themselves.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wafer_grammar.errors import ChatTemplateMissing, ThinkingUnsupported, TokenizerError
from wafer_grammar.tokenize.budget import check_budget
from wafer_grammar.tokenize.chat import (
    ControlMatcher,
    ControlToken,
    Defanger,
    check_messages,
    encode_segments,
    render,
)
from wafer_grammar.tokenize.registry import ModelEntry

TemplateLoader = Callable[[], "str | None"]


@dataclass(frozen=True)
class Prompt:
    """A chat prompt ready for ``/v1/completions``: ``ids`` and the ``text`` they spell."""

    ids: list[int]
    text: str
    prefill: str | None = None
    thinking: bool = False
    model: str | None = None

    def __len__(self) -> int:
        return len(self.ids)


def _byte_decoder() -> dict[str, int]:
    from wafer_grammar.tokenize.tiktoken_convert import _byte_to_unicode

    return {ch: b for b, ch in _byte_to_unicode().items()}


class Tokenizer:
    """A model's tokenizer: ``encode``/``decode`` text and ``encode_chat`` messages.

    Build one with :func:`wafer_grammar.load_tokenizer`.
    """

    def __init__(
        self,
        backend: Any,
        *,
        name: str,
        source: str,
        chat_template: str | None = None,
        template_loader: TemplateLoader | None = None,
        special_tokens: Mapping[str, str] | None = None,
        entry: ModelEntry | None = None,
    ) -> None:
        self.name = name
        """What was asked for: a model ID, repo or path."""
        self.source = source
        """Where the tokenizer came from (a source spec)."""
        self.entry = entry
        """The registry entry, when ``name`` is a known model."""
        self.special_tokens: dict[str, str] = dict(special_tokens or {})
        """Named special tokens (``bos_token``, ``eos_token``...) given to chat templates."""
        self._template = chat_template
        self._template_loader = template_loader
        self._template_error: str | None = None
        added = backend.get_added_tokens_decoder()
        self._controls = ControlMatcher(
            ControlToken(t.content, i, t.lstrip, t.rstrip, t.single_word) for i, t in added.items()
        )
        # One backend serves both modes: plain text by its own switch, control tokens
        # by our matcher (see _encode_with_controls).
        self._backend = self._plain_backend(backend)
        self._byte_map: dict[str, int] | None = None
        from tokenizers import decoders

        self._is_byte_level = isinstance(backend.decoder, decoders.ByteLevel)

    @staticmethod
    def _plain_backend(backend: Any) -> Any:
        """The backend, switched to encode every added-token string as plain text.

        ``encode_special_tokens`` covers only *special* added tokens, and some
        control tokens are not special (DeepSeek's ``<｜User｜>``), so those are
        first re-registered as special (same ids). The backend is ours, freshly loaded.
        """
        from tokenizers import AddedToken

        ordinary = [t for t in backend.get_added_tokens_decoder().values() if not t.special]
        if ordinary:
            backend.add_special_tokens(
                [
                    AddedToken(
                        t.content,
                        special=True,
                        normalized=t.normalized,
                        lstrip=t.lstrip,
                        rstrip=t.rstrip,
                        single_word=t.single_word,
                    )
                    for t in ordinary
                ]
            )
        backend.encode_special_tokens = True
        return backend

    def __repr__(self) -> str:
        return f"Tokenizer({self.name!r}, source={self.source!r})"

    # ------------------------------------------------------------ vocabulary

    @property
    def vocab_size(self) -> int:
        """Vocabulary size including added tokens."""
        return int(self._backend.get_vocab_size(with_added_tokens=True))

    @property
    def max_model_len(self) -> int | None:
        """The model card's context window, when the registry knows the model."""
        return self.entry.max_model_len if self.entry else None

    def control_tokens(self) -> dict[str, int]:
        """Every added (control) token: its text -> id."""
        return {t.content: t.id for t in self._controls.tokens}

    def token_to_id(self, token: str) -> int | None:
        """The id of a vocabulary entry (raw form, e.g. ``Ġthe``), or None."""
        found = self._backend.token_to_id(token)
        return int(found) if found is not None else None

    def id_to_token(self, token_id: int) -> str | None:
        """The raw vocabulary entry of ``token_id``, or None."""
        found = self._backend.id_to_token(token_id)
        return str(found) if found is not None else None

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes a token stands for (a piece may be part of one UTF-8 character)."""
        raw = self.id_to_token(token_id)
        if raw is None:
            raise TokenizerError(f"token id {token_id} is not in the vocabulary")
        if raw in self._controls.by_content:
            return raw.encode("utf-8")
        if self._is_byte_level:
            if self._byte_map is None:
                self._byte_map = _byte_decoder()
            if all(ch in self._byte_map for ch in raw):
                return bytes(self._byte_map[ch] for ch in raw)
        return str(self._backend.decode([token_id], skip_special_tokens=False)).encode("utf-8")

    def pieces(self, ids: Sequence[int]) -> list[str]:
        """Each token as readable text; bytes that are not whole characters shown as ``\\xNN``."""
        return [self.token_bytes(i).decode("utf-8", errors="backslashreplace") for i in ids]

    # ------------------------------------------------------------ text

    def encode(self, text: str, *, allow_special: bool = False) -> list[int]:
        """Token ids of ``text`` (no BOS/EOS added).

        ``allow_special=False`` (default): control-token strings in ``text`` are plain
        text. ``allow_special=True``: they become control tokens.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        if allow_special:
            return self._encode_with_controls(text)
        ids: list[int] = self._backend.encode(text, add_special_tokens=False).ids
        return ids

    def encode_batch(self, texts: Sequence[str], *, allow_special: bool = False) -> list[list[int]]:
        """``encode`` for many texts, in parallel inside ``tokenizers``."""
        if isinstance(texts, str):
            raise TypeError("encode_batch takes a list of texts; use encode for one")
        if allow_special:
            return [self._encode_with_controls(t) for t in texts]
        return self._encode_plain_many(list(texts))

    def _encode_with_controls(self, text: str) -> list[int]:
        # Split at control-token strings as tokenizers' added vocabulary does, then
        # encode the text between them plain. The plain backend may be the full one
        # with specials switched off, so this is how specials get matched at all.
        return encode_segments(self._controls.split(text), _same, self._encode_plain_many)

    def decode(self, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
        """The text of ``ids``; control tokens kept unless ``skip_special_tokens``.

        ``skip_special_tokens`` drops every added (control) token, including those
        the tokenizer file does not flag special (DeepSeek's ``<｜User｜>``).
        """
        ids = list(ids)
        size = self.vocab_size
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < size:
                raise TokenizerError(f"token id {i!r} is outside the vocabulary (0..{size - 1})")
        return str(self._backend.decode(ids, skip_special_tokens=skip_special_tokens))

    # ------------------------------------------------------------ chat

    @property
    def chat_template(self) -> str | None:
        """The chat template in use, or None (resolved on first use; may read the hub cache)."""
        if self._template is None and self._template_loader is not None:
            loader, self._template_loader = self._template_loader, None
            try:
                self._template = loader()
            except TokenizerError as exc:
                self._template_error = str(exc)
        return self._template

    def with_chat_template(self, template: str | os.PathLike[str]) -> Tokenizer:
        """A tokenizer like this one with a user-supplied template (text, or a file path)."""
        text = read_template(template)
        return Tokenizer(
            self._backend,
            name=self.name,
            source=self.source,
            chat_template=text,
            special_tokens=self.special_tokens,
            entry=self.entry,
        )

    def _thinking_variables(self, thinking: bool) -> dict[str, Any]:
        entry = self.entry
        if entry is None:
            # Unknown family: set both spellings in use (Qwen/GLM read enable_thinking,
            # DeepSeek/Kimi read thinking); a template ignores variables it does not use.
            return {"enable_thinking": thinking, "thinking": thinking}
        if entry.reasoning == "none":
            if thinking:
                raise ThinkingUnsupported(
                    f"{entry.id} does not reason; call encode_chat without thinking=True"
                )
            return {}
        if entry.thinking_variable is None:
            if not thinking:
                raise ThinkingUnsupported(
                    f"{entry.id} always reasons ({entry.reasoning} <think>) and its template "
                    "has no switch; pass thinking=True and strip the reasoning from the output"
                )
            return {}
        return {entry.thinking_variable: thinking}

    def _missing_template(self) -> ChatTemplateMissing:
        detail = f"its tokenizer from {self.source} ships none"
        if self._template_error:
            detail += f"; looking for the model's own template failed: {self._template_error}"
        msg = (
            f"{self.name!r} has no chat template ({detail}); "
            f"supply one: load_tokenizer({self.name!r}, chat_template=TEXT_OR_PATH) or "
            "tokenizer.with_chat_template(TEXT_OR_PATH)"
        )
        return ChatTemplateMissing(msg, model=self.name, detail=detail)

    def render_chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        thinking: bool = False,
        tools: Sequence[Mapping[str, Any]] | None = None,
        template_kwargs: Mapping[str, Any] | None = None,
        add_generation_prompt: bool = True,
    ) -> str:
        """The rendered prompt text only (user text as given, not tokenized)."""
        rendered, defanger = self._render(
            messages, thinking, tools, template_kwargs, add_generation_prompt, None
        )
        return defanger.restore(rendered)

    def _render(
        self,
        messages: Sequence[Mapping[str, Any]],
        thinking: bool,
        tools: Sequence[Mapping[str, Any]] | None,
        template_kwargs: Mapping[str, Any] | None,
        add_generation_prompt: bool,
        defanger: Defanger | None,
    ) -> tuple[str, Defanger]:
        template = self.chat_template
        if template is None:
            raise self._missing_template()
        checked = check_messages(messages)
        defanger = defanger or Defanger(self._controls)
        variables: dict[str, Any] = {
            **self.special_tokens,
            "messages": defanger.value(checked),
            "add_generation_prompt": add_generation_prompt,
        }
        if tools is not None:
            variables["tools"] = defanger.value(list(tools))
        variables.update(self._thinking_variables(thinking))
        variables.update(template_kwargs or {})
        rendered = render(template, variables)
        return rendered, defanger

    def encode_chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        thinking: bool = False,
        prefill: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        template_kwargs: Mapping[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> Prompt:
        """Render ``messages`` with the chat template and generation prompt, then tokenize.

        Parameters:
            messages: OpenAI-style ``{"role", "content"}`` dicts (``reasoning_content``,
                ``tool_calls`` passed through to the template).
            thinking: Reasoning on or off, set the way the model's template expects
                (``enable_thinking`` for Qwen/GLM, ``thinking`` for DeepSeek/Kimi).
            prefill: Start of the assistant's reply. It is appended to the rendered text and
                tokenized *together with* the template text after the last control
                token, so the ids are the canonical tokenization of the whole text and
                the junction splits no token. Prefer a prefill that does not end in a
                space: the model would normally emit the space inside its next token.
            tools: Tool definitions, for templates that render them.
            template_kwargs: Extra template variables; they override the thinking switch.
            max_tokens: When given with a known ``max_model_len``, the budget is checked here.

        Raises:
            ChatTemplateMissing: No template and none supplied.
            ThinkingUnsupported: The model cannot switch reasoning as asked.
            ContextLengthExceeded: ``max_tokens`` given and the prompt does not leave room for it.
        """
        if prefill is not None and not isinstance(prefill, str):
            raise TypeError(f"prefill must be a str, not {type(prefill).__name__}")
        rendered, defanger = self._render(messages, thinking, tools, template_kwargs, True, None)
        if prefill:
            rendered += defanger.text(prefill)
        segments = self._controls.split(rendered)
        ids = encode_segments(segments, defanger.restore, self._encode_plain_many)
        prompt = Prompt(
            ids=ids,
            text=defanger.restore(rendered),
            prefill=prefill,
            thinking=thinking,
            model=self.entry.id if self.entry else None,
        )
        if max_tokens is not None and self.max_model_len is not None:
            check_budget(prompt, max_tokens=max_tokens, max_model_len=self.max_model_len)
        return prompt

    def _encode_plain_many(self, texts: list[str]) -> list[list[int]]:
        if not texts:
            return []
        if len(texts) == 1:
            # encode_batch's thread-pool handoff costs more than it saves for one text.
            return [self._backend.encode(texts[0], add_special_tokens=False).ids]
        # .ids is a fresh list already: no copy. encode_batch_fast skips offsets we never use.
        return [e.ids for e in self._backend.encode_batch_fast(texts, add_special_tokens=False)]

    def check_budget(
        self,
        prompt: Prompt | Sequence[int] | int,
        *,
        max_tokens: int,
        max_model_len: int | None = None,
    ) -> int:
        """:func:`~wafer_grammar.tokenize.budget.check_budget` with the model's context.

        ``max_model_len`` defaults to the registry's; pass the live card's when you have it.
        """
        limit = max_model_len if max_model_len is not None else self.max_model_len
        if limit is None:
            raise TokenizerError(
                f"the context length of {self.name!r} is unknown; pass max_model_len "
                "(from the model card: client.models())"
            )
        return check_budget(prompt, max_tokens=max_tokens, max_model_len=limit)


def _same(text: str) -> str:
    return text


def read_template(template: str | os.PathLike[str]) -> str:
    """Template text from a string, or from a file when given a path object."""
    if isinstance(template, os.PathLike):
        try:
            return Path(template).read_text(encoding="utf-8")
        except OSError as exc:
            raise TokenizerError(
                f"cannot read chat template {os.fspath(template)!r}: {exc}"
            ) from exc
    if not isinstance(template, str):
        raise TypeError(f"chat_template must be a str or a path, not {type(template).__name__}")
    return template

"""Context-window budget: refuse locally what the server would refuse after a round trip."""

from __future__ import annotations

from collections.abc import Sized

from wafer_grammar.errors import ContextLengthExceeded


def prompt_length(prompt: int | Sized) -> int:
    """The token count of a prompt given as a count, an id list or a ``Prompt``."""
    if isinstance(prompt, bool):
        raise TypeError("prompt must be a token count, a list of token ids or a Prompt")
    if isinstance(prompt, int):
        if prompt < 0:
            raise ValueError(f"a prompt cannot have {prompt} tokens")
        return prompt
    if isinstance(prompt, (str, bytes)):
        raise TypeError("prompt is text: encode it first (tokenizer.encode or encode_chat)")
    return len(prompt)


def check_budget(prompt: int | Sized, *, max_tokens: int, max_model_len: int) -> int:
    """Check that ``prompt`` plus ``max_tokens`` fits ``max_model_len``.

    Parameters:
        prompt: The prompt's token count, its ids, or a ``Prompt``.
        max_tokens: The request's ``max_tokens`` (positive, as the API requires).
        max_model_len: The model card's ``max_model_len``: prompt and output tokens together.

    Returns:
        The tokens left over after the prompt and ``max_tokens`` (0 or more).

    Raises:
        ContextLengthExceeded: When ``prompt + max_tokens > max_model_len`` (the server's own test).
    """
    for name, value in (("max_tokens", max_tokens), ("max_model_len", max_model_len)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    used = prompt_length(prompt)
    if used + max_tokens > max_model_len:
        raise ContextLengthExceeded(
            prompt_tokens=used, max_tokens=max_tokens, max_model_len=max_model_len
        )
    return max_model_len - used - max_tokens

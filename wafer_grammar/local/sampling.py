"""Choosing the next token from a batch of logits (torch; imported only by the decode loop)."""

from __future__ import annotations

import torch

from wafer_grammar.local.params import SamplingParams


def bias_tensor(params: SamplingParams, vocab_size: int) -> torch.Tensor | None:
    """``logit_bias`` as a dense ``[vocab]`` tensor (None when there is none)."""
    if not params.logit_bias:
        return None
    bias = torch.zeros(vocab_size)
    for token, value in params.logit_bias:
        bias[token] = value
    return bias


def adjust(
    logits: torch.Tensor,
    params: SamplingParams,
    counts: torch.Tensor | None,
    bias: torch.Tensor | None,
) -> torch.Tensor:
    """Penalties and biases, applied before the grammar mask (so a masked token stays out).

    ``counts`` ``[rows, vocab]`` is how often each token was generated in each row.
    The repetition penalty is SGLang's (multiplicative, on generated tokens); the
    frequency and presence penalties are OpenAI's (additive); ``logit_bias`` is added
    last. Greedy decoding takes the argmax of the result, so all of them still apply.
    """
    if counts is not None and params.penalized:
        seen = counts > 0
        if params.repetition_penalty != 1.0:
            penalized = torch.where(
                logits > 0, logits / params.repetition_penalty, logits * params.repetition_penalty
            )
            logits = torch.where(seen, penalized, logits)
        if params.frequency_penalty:
            logits = logits - params.frequency_penalty * counts
        if params.presence_penalty:
            logits = logits - params.presence_penalty * seen.to(logits.dtype)
    if bias is not None:
        logits = logits + bias
    return logits


def log_probs(logits: torch.Tensor) -> torch.Tensor:
    """Log-probabilities of masked logits (disallowed tokens are -inf, so they get -inf)."""
    return torch.log_softmax(logits.float(), dim=-1)


def top_alternatives(logprobs: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` most likely tokens per row: (values, ids), each ``[rows, k]``."""
    values, ids = torch.topk(logprobs, k=min(k, logprobs.shape[-1]), dim=-1)
    return values, ids


def sample(
    logits: torch.Tensor, params: SamplingParams, generator: torch.Generator
) -> torch.Tensor:
    """One token id per row of ``logits`` ``[rows, vocab]`` (already grammar-masked).

    Temperature divides the logits, then top-k, top-p and min-p cut the tail, as
    vLLM and SGLang order them. Masked tokens stay at -inf, so they are never drawn.
    """
    if params.greedy:
        return torch.argmax(logits, dim=-1)
    scaled = logits.float() / params.temperature
    if params.top_k > 0 and params.top_k < scaled.shape[-1]:
        kth = torch.topk(scaled, params.top_k, dim=-1).values[..., -1:]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    if params.top_p < 1.0:
        scaled = _top_p(scaled, params.top_p)
    probs = torch.softmax(scaled, dim=-1)
    if params.min_p > 0.0:
        # The most likely token always survives (its ratio is 1), so a row never empties.
        floor = params.min_p * probs.max(dim=-1, keepdim=True).values
        probs = probs.masked_fill(probs < floor, 0.0)
    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)


def _top_p(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
    # Drop a token when the tokens before it already reach top_p; the first always stays.
    drop = (cumulative - torch.softmax(sorted_logits, dim=-1)) >= top_p
    drop[..., 0] = False
    sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
    return torch.empty_like(logits).scatter_(-1, order, sorted_logits)

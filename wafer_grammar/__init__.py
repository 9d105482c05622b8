"""wafer-grammar: grammar-constrained, token-level work against Wafer's LLM API.

This module only re-exports. The HTTP client is imported on first use, so
``import wafer_grammar`` loads neither httpx nor torch, transformers or XGrammar.
"""

from typing import TYPE_CHECKING, Any

from wafer_grammar.builder import GrammarBuilder
from wafer_grammar.convert import Coverage, CoverageEntry
from wafer_grammar.decoding import Cost, LabelDistribution, cost_of, decode, label_probabilities
from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.errors import (
    APIError,
    AuthenticationFailed,
    BadRequest,
    BatchFileError,
    ChatTemplateMissing,
    ConnectionFailed,
    ConstraintViolation,
    ContextLengthExceeded,
    DecodeError,
    EngineError,
    GBNFUnsupported,
    GrammarError,
    GrammarIgnored,
    GrammarRejected,
    GrammarSyntaxError,
    InvalidLabels,
    InvalidRequest,
    LanguageNotFinite,
    LogprobsMissing,
    MalformedResponse,
    ModelUnavailable,
    ModelValidationFailed,
    NotFound,
    OutputMismatch,
    OutputNotJSON,
    PermissionDenied,
    PricingUnavailable,
    RateLimited,
    RegexUnsupported,
    RegistryError,
    RequestTimeout,
    SchemaViolation,
    ServerContextLengthExceeded,
    ServerError,
    TextUnjudgeable,
    ThinkingUnsupported,
    TokenizerError,
    TokenizerNotFound,
    TruncatedOutput,
    UnsupportedSchema,
    WaferGrammarError,
    ZDRUnsupported,
)
from wafer_grammar.grammar import Grammar
from wafer_grammar.tasks import (
    BatchJob,
    BatchSummary,
    Classification,
    Extraction,
    LabelDesignWarning,
    WaferGrammarWarning,
    classify,
    extract,
    run_batch,
)
from wafer_grammar.tokenize import (
    LabelReport,
    ModelEntry,
    Prompt,
    Registry,
    Tokenizer,
    check_budget,
    check_labels,
    default_registry,
    load_tokenizer,
    max_tokens_for,
    register_model,
)

if TYPE_CHECKING:
    from wafer_grammar.client import (
        AsyncWaferClient,
        ChatCompletion,
        ClientConfig,
        Completion,
        IgnoredParameterWarning,
        ModelCard,
        RetryPolicy,
        Timeouts,
        Usage,
        WaferClient,
    )

_CLIENT_NAMES = frozenset({
    "AsyncWaferClient", "ChatCompletion", "ClientConfig", "Completion",
    "IgnoredParameterWarning", "ModelCard", "RetryPolicy", "Timeouts", "Usage", "WaferClient",
})  # fmt: skip


def __getattr__(name: str) -> Any:
    # The client pulls in httpx: load it when first asked for, not at import.
    if name in _CLIENT_NAMES:
        import wafer_grammar.client as client

        return getattr(client, name)
    raise AttributeError(f"module 'wafer_grammar' has no attribute {name!r}")


__all__ = [
    "APIError",
    "AsyncWaferClient",
    "AuthenticationFailed",
    "BadRequest",
    "BatchFileError",
    "BatchJob",
    "BatchSummary",
    "ChatCompletion",
    "ChatTemplateMissing",
    "Classification",
    "ClientConfig",
    "Completion",
    "ConnectionFailed",
    "ConstraintViolation",
    "ContextLengthExceeded",
    "Cost",
    "Coverage",
    "CoverageEntry",
    "DecodeError",
    "Diagnostic",
    "EngineError",
    "Extraction",
    "GBNFUnsupported",
    "Grammar",
    "GrammarBuilder",
    "GrammarError",
    "GrammarIgnored",
    "GrammarRejected",
    "GrammarSyntaxError",
    "IgnoredParameterWarning",
    "InvalidLabels",
    "InvalidRequest",
    "LabelDesignWarning",
    "LabelDistribution",
    "LabelReport",
    "LanguageNotFinite",
    "LogprobsMissing",
    "MalformedResponse",
    "ModelCard",
    "ModelEntry",
    "ModelUnavailable",
    "ModelValidationFailed",
    "NotFound",
    "OutputMismatch",
    "OutputNotJSON",
    "PermissionDenied",
    "PricingUnavailable",
    "Prompt",
    "RateLimited",
    "RegexUnsupported",
    "Registry",
    "RegistryError",
    "RequestTimeout",
    "RetryPolicy",
    "SchemaViolation",
    "ServerContextLengthExceeded",
    "ServerError",
    "TextUnjudgeable",
    "ThinkingUnsupported",
    "Timeouts",
    "Tokenizer",
    "TokenizerError",
    "TokenizerNotFound",
    "TruncatedOutput",
    "UnsupportedSchema",
    "Usage",
    "WaferClient",
    "WaferGrammarError",
    "WaferGrammarWarning",
    "ZDRUnsupported",
    "check_budget",
    "check_labels",
    "classify",
    "cost_of",
    "decode",
    "default_registry",
    "extract",
    "label_probabilities",
    "load_tokenizer",
    "max_tokens_for",
    "register_model",
    "run_batch",
]

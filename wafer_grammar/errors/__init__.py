"""The one exception tree of wafer-grammar.

::

    WaferGrammarError
     ├── GrammarError (ValueError)          .diagnostics: the grammar is not valid
     │    ├── GrammarSyntaxError            .diagnostics: it does not even parse
     │    └── GBNFUnsupported               lookahead, options or macros GBNF cannot express
     ├── TextUnjudgeable (ValueError)       a token-level macro cannot be judged on text
     ├── OutputMismatch (ValueError)        .offset .line .column .expected: not in the language
     ├── TokenizerError                     loading or using a tokenizer failed
     │    ├── TokenizerNotFound (LookupError)
     │    ├── ChatTemplateMissing (ValueError)
     │    ├── ThinkingUnsupported (ValueError)  the model cannot switch reasoning that way
     │    └── RegistryError (ValueError)        a model registry file or entry is malformed
     ├── ContextLengthExceeded (ValueError) .prompt_tokens .max_tokens .max_model_len
     ├── LanguageNotFinite (ValueError)     a grammar's language is infinite or too large to list
     ├── RegexUnsupported (ValueError)      .construct .position: a regex no grammar can express
     ├── RegexError (ValueError)            .pattern .position: a Regex() XGrammar cannot compile
     ├── UnsupportedSchema (ValueError)     .keyword .pointer: a JSON Schema keyword not enforced
     ├── InvalidLabels (ValueError)         .labels: empty or duplicate labels for a choice
     ├── EngineError                        the embedded local engine failed a request
     │    ├── ModelUnavailable              the model file or an engine dependency is missing
     │    └── InvalidRequest (ValueError)   .param .code .status: a request the engine refuses
     ├── APIError                       .status .request_id .code .param: the HTTP API failed
     │    ├── AuthenticationFailed          401: the API key is missing or refused
     │    ├── PermissionDenied              403: the key may not use this model or endpoint
     │    ├── NotFound (LookupError)        404: unknown model or endpoint
     │    ├── RateLimited                   429: .retry_after (seconds, or None)
     │    ├── BadRequest (ValueError)       400/413/422: .param names the offending field
     │    │    ├── GrammarRejected          the server's XGrammar refused the `ebnf`
     │    │    └── ServerContextLengthExceeded (also ContextLengthExceeded)
     │    ├── ServerError                   5xx, after the retries
     │    ├── RequestTimeout (TimeoutError) no answer in time, after the retries
     │    ├── ConnectionFailed (ConnectionError)  unreachable, or the connection dropped
     │    ├── UnexpectedRedirect            3xx: .location_host; never followed (the key stays here)
     │    └── MalformedResponse             a success answer that is not the documented shape
     ├── ZDRUnsupported (ValueError)    zdr=True for a model whose card lacks ZDR support
     ├── PricingUnavailable (LookupError)  a cost asked of a model whose card has no pricing
     ├── BatchFileError (ValueError)    .path .line: a batch input or output file is malformed
     │    └── InvalidInput                  one input line that cannot be processed (recorded)
     ├── OutputWriteFailed (OSError)    .path .saved .errno: the batch output cannot be written
     └── DecodeError (ValueError)       .layer .text: a completion that cannot be used
          ├── TruncatedOutput               .viable_prefix: finish_reason "length"
          ├── ConstraintViolation           .offset .line .column: text outside the grammar
          │    └── GrammarIgnored           .server .field: the server did not apply the grammar
          ├── OutputNotJSON                 .offset: a JSON grammar's text does not parse
          ├── SchemaViolation               .errors: JSON that breaks the JSON Schema
          ├── ModelValidationFailed         .errors: JSON the pydantic model refuses
          ├── LogprobsMissing               label probabilities without logprobs
          └── UnmaskedLogprobs              a masking server's logprobs put mass outside the labels

Foreign errors (lark, httpx, tokenizers, XGrammar) are translated at the boundary
with ``raise ... from exc``; users only ever catch these.
"""

from __future__ import annotations

from wafer_grammar.errors.api import (
    APIError,
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    GrammarRejected,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestTimeout,
    ServerContextLengthExceeded,
    ServerError,
    UnexpectedRedirect,
    ZDRUnsupported,
)
from wafer_grammar.errors.core import (
    ChatTemplateMissing,
    ContextLengthExceeded,
    EngineError,
    GBNFUnsupported,
    GrammarError,
    GrammarSyntaxError,
    InvalidLabels,
    InvalidRequest,
    LanguageNotFinite,
    ModelUnavailable,
    OutputMismatch,
    RegexError,
    RegexUnsupported,
    RegistryError,
    TextUnjudgeable,
    ThinkingUnsupported,
    TokenizerError,
    TokenizerNotFound,
    UnsupportedSchema,
    WaferGrammarError,
)
from wafer_grammar.errors.outputs import (
    BatchFileError,
    ConstraintViolation,
    DecodeError,
    GrammarIgnored,
    InvalidInput,
    LogprobsMissing,
    ModelValidationFailed,
    OutputNotJSON,
    OutputWriteFailed,
    PricingUnavailable,
    SchemaViolation,
    TruncatedOutput,
    UnmaskedLogprobs,
)

__all__ = [
    "APIError",
    "AuthenticationFailed",
    "BadRequest",
    "BatchFileError",
    "ChatTemplateMissing",
    "ConnectionFailed",
    "ConstraintViolation",
    "ContextLengthExceeded",
    "DecodeError",
    "EngineError",
    "GBNFUnsupported",
    "GrammarError",
    "GrammarIgnored",
    "GrammarRejected",
    "GrammarSyntaxError",
    "InvalidInput",
    "InvalidLabels",
    "InvalidRequest",
    "LanguageNotFinite",
    "LogprobsMissing",
    "MalformedResponse",
    "ModelUnavailable",
    "ModelValidationFailed",
    "NotFound",
    "OutputMismatch",
    "OutputNotJSON",
    "OutputWriteFailed",
    "PermissionDenied",
    "PricingUnavailable",
    "RateLimited",
    "RegexError",
    "RegexUnsupported",
    "RegistryError",
    "RequestTimeout",
    "SchemaViolation",
    "ServerContextLengthExceeded",
    "ServerError",
    "TextUnjudgeable",
    "ThinkingUnsupported",
    "TokenizerError",
    "TokenizerNotFound",
    "TruncatedOutput",
    "UnexpectedRedirect",
    "UnmaskedLogprobs",
    "UnsupportedSchema",
    "WaferGrammarError",
    "ZDRUnsupported",
]

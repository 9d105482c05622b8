"""The public surface is pinned, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import wafer_grammar


def test_all_is_pinned() -> None:
    assert wafer_grammar.__all__ == [
        "APIError", "AsyncWaferClient", "AuthenticationFailed", "BadRequest", "BatchFileError",
        "BatchJob", "BatchSummary", "ChatCompletion", "ChatTemplateMissing", "Classification",
        "ClientConfig", "Completion", "ConnectionFailed", "ConstraintViolation",
        "ContextLengthExceeded", "Cost", "Coverage", "CoverageEntry", "DecodeError",
        "Diagnostic", "EmptyTextWarning", "EngineError", "Extraction", "ExtractionUpdate", "GBNFUnsupported",
        "Grammar",
        "GrammarBuilder", "GrammarError", "GrammarIgnored", "GrammarRejected",
        "GrammarSyntaxError", "IgnoredParameterWarning", "InvalidInput", "InvalidLabels",
        "InvalidRequest", "LabelDesignWarning", "LabelDistribution", "LabelReport",
        "LanguageNotFinite", "LogprobsMissing", "MalformedResponse", "ModelCard", "ModelEntry",
        "ModelUnavailable", "ModelValidationFailed", "NotFound", "OutputMismatch",
        "OutputNotJSON", "OutputWriteFailed", "PermissionDenied", "PricingUnavailable",
        "Prompt", "RateLimited", "RegexUnsupported", "Registry", "RegistryError",
        "RequestTimeout", "RetryPolicy", "SchemaViolation", "ServerContextLengthExceeded",
        "ServerError", "TextUnjudgeable", "ThinkingUnsupported", "Timeouts", "Tokenizer",
        "TokenizerError", "TokenizerNotFound", "TruncatedOutput", "UnexpectedRedirect",
        "UnmaskedLogprobs", "UnsupportedSchema", "Usage", "WaferClient", "WaferGrammarError",
        "WaferGrammarWarning", "ZDRUnsupported", "check_budget", "check_labels", "classify",
        "cost_of", "decode", "default_registry", "extract", "extract_stream", "label_distribution",
        "label_probabilities", "load_tokenizer", "max_tokens_for", "register_model", "run_batch",
    ]  # fmt: skip
    for name in wafer_grammar.__all__:
        assert getattr(wafer_grammar, name) is not None


def test_every_error_is_a_wafer_grammar_error() -> None:
    from wafer_grammar import errors

    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, errors.WaferGrammarError)


def test_import_is_light() -> None:
    code = (
        "import sys, wafer_grammar; "
        "heavy = {'torch', 'transformers', 'tokenizers', 'xgrammar', 'httpx', 'hypothesis', 'lark'}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

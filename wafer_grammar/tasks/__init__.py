"""Tasks: forced-choice classification, structured extraction, resumable batches.

``classify`` and ``extract`` take a client, or choose a backend themselves
(:mod:`wafer_grammar.tasks.backend`: ``base_url``, else Wafer when
``$WAFER_API_KEY`` is set, else the embedded engine). Importing this package is
light: clients, tokenizers and the engine load when a task runs.
"""

from wafer_grammar.tasks.api_async import (
    aclassify,
    aextract,
    aextract_full,
    aextract_stream,
    alabel_distribution,
)
from wafer_grammar.tasks.api_sync import (
    classify,
    extract,
    extract_full,
    extract_stream,
    label_distribution,
)
from wafer_grammar.tasks.backend import Backend, open_async_client, open_client
from wafer_grammar.tasks.batch import BatchJob, BatchSummary, Estimate, run_batch
from wafer_grammar.tasks.classification import Classification
from wafer_grammar.tasks.design import EmptyTextWarning, LabelDesignWarning, WaferGrammarWarning
from wafer_grammar.tasks.extraction import Extraction
from wafer_grammar.tasks.extraction_stream import ExtractionUpdate

__all__ = [
    "Backend",
    "BatchJob",
    "BatchSummary",
    "Classification",
    "EmptyTextWarning",
    "Estimate",
    "Extraction",
    "ExtractionUpdate",
    "LabelDesignWarning",
    "WaferGrammarWarning",
    "aclassify",
    "aextract",
    "aextract_full",
    "aextract_stream",
    "alabel_distribution",
    "classify",
    "extract",
    "extract_full",
    "extract_stream",
    "label_distribution",
    "open_async_client",
    "open_client",
    "run_batch",
]

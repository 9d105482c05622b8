"""The embedded local engine (SmolLM2-135M-Instruct + XGrammar) and its HTTP server.

Importing this package is light: torch, transformers and xgrammar are imported
when an engine starts (:meth:`Engine.start`), not before.

::

    from wafer_grammar.local import Engine

    with Engine() as engine:
        out = engine.complete("The capital of France is", max_tokens=8, temperature=0)
        print(out.choices[0].text)
"""

from wafer_grammar.local.config import EngineConfig
from wafer_grammar.local.engine import Engine, Generation
from wafer_grammar.local.faults import Fault, FaultPlan
from wafer_grammar.local.params import SamplingParams
from wafer_grammar.local.results import Choice, Completion, Delta, TokenLogprob, Usage
from wafer_grammar.local.server import LocalServer

__all__ = [
    "Choice",
    "Completion",
    "Delta",
    "Engine",
    "EngineConfig",
    "Fault",
    "FaultPlan",
    "Generation",
    "LocalServer",
    "SamplingParams",
    "TokenLogprob",
    "Usage",
]

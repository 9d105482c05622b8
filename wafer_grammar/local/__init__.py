"""The embedded local engine (SmolLM2-135M-Instruct + XGrammar) and its HTTP server.

Importing this package is light: torch, transformers and xgrammar are imported
when an engine starts (:meth:`Engine.start`), not before.

::

    from wafer_grammar.local import Engine

    with Engine() as engine:
        out = engine.complete("The capital of France is", max_tokens=8, temperature=0)
        print(out.choices[0].text)
"""

from wafer_grammar.local.engine import Engine, Generation
from wafer_grammar.local.engine_config import EngineConfig
from wafer_grammar.local.engine_results import (
    EngineChoice,
    EngineCompletion,
    EngineDelta,
    EngineTokenLogprob,
    EngineUsage,
)
from wafer_grammar.local.faults import Fault, FaultPlan
from wafer_grammar.local.params import SamplingParams
from wafer_grammar.local.server import LocalServer

__all__ = [
    "Engine",
    "EngineChoice",
    "EngineCompletion",
    "EngineConfig",
    "EngineDelta",
    "EngineTokenLogprob",
    "EngineUsage",
    "Fault",
    "FaultPlan",
    "Generation",
    "LocalServer",
    "SamplingParams",
]

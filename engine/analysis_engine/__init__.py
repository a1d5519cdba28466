"""`tengen analysis`: KataGo's JSON analysis-engine protocol over tengen's batched search.

`protocol` turns input lines into typed requests and results into answer dicts (no search);
`scheduler` searches the queued positions together, one batched runner per board size.
Thread rule: see each module (the scheduler owns its runners on the thread that calls serve).
"""

from engine.analysis_engine.protocol import Action, Query, parse_line
from engine.analysis_engine.scheduler import AnalysisScheduler, SizeEngine, fallback_engine

__all__ = ["Action", "AnalysisScheduler", "Query", "SizeEngine", "fallback_engine", "parse_line"]

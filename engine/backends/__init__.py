"""Search backends: they search a position within a budget and report statistics, nothing more.

`base` holds the interface (SearchBackend) and its types (Budget, SearchOutcome); `uct` the built-in
C++ UCT-RAVE search; `net` the batched PUCT/APV search with networks. Time, pass and resign decisions
belong to `engine.player.Player`, which drives any backend.
"""

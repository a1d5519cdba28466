"""Arena: matches and tournaments between GTP players, Bradley-Terry Elo, SPRT gating and
ablation reports.

Modules, lowest first: `players` (player specs, launching and probing GTP engines),
`config` (tournament configs and the deterministic game schedule), `match` (one refereed
game, SGF), `results` (crash-safe JSONL results), `tournament` (parallel runs that resume),
`elo`, `sprt`, `report`, `ladder` (the rating ladder's anchors, one player's rating against
them, the next opponent) and `rate` (running a rating or a calibration; `tengen rate`).
"""

"""What a network with KataGo's auxiliary heads says about whole positions, outside the search:
the final ownership of every point and the score lead, for GTP analysis (kata-analyze's
`ownership` and `scoreLead`) and for scoring (final_score, final_status_list, passing).

One forward pass per call over a small batch of positions (a root and its children), in
inference mode on the net's device. Not thread-safe: one call at a time per estimator (the GTP
session calls it from the thread that runs the search, between search steps).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from engine import _core
from engine.analysis import PositionEstimate
from engine.nets import GoNet


class NetEstimator:
    """Ownership and score lead from a policy_value net with aux heads."""

    def __init__(self, net: GoNet, device: torch.device | str = "cpu") -> None:
        if not net.config.aux_heads:
            raise ValueError("the network has no ownership and score heads (aux_heads)")
        self.net = net
        self.device = torch.device(device)
        self.board_size = net.config.board_size

    def estimate(self, games: Sequence[_core.Game]) -> list[PositionEstimate]:
        """One estimate per game (all of the net's board size)."""
        if not games:
            return []
        n = self.board_size
        if any(g.size != n for g in games):
            raise ValueError(f"the network plays {n}x{n}")
        planes = np.zeros((len(games), self.net.config.input_planes, n, n), np.float32)
        _core.write_features_batch(list(games), planes, self.net.config.feature_set)
        with torch.inference_mode():
            out = self.net(torch.from_numpy(planes).to(self.device))
        assert out.ownership is not None and out.score is not None
        own = out.ownership.float().cpu().numpy()
        score = out.score.float().cpu().numpy()
        result = []
        for i, g in enumerate(games):
            sign = 1.0 if g.to_move == _core.BLACK else -1.0
            result.append(PositionEstimate(ownership=(own[i] * sign).astype(np.float32),
                                           score_lead=float(score[i] * sign)))
        return result

"""A policy network's move probabilities for the root of the built-in UCT-RAVE search (the
`uct_net` search: csrc/search/uct.h's prior_bonus term). One forward pass a move, so the
search keeps nearly all of its playouts.

Not thread-safe: one call at a time (the backend calls it before each search starts).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch

from engine import _core
from engine.nets import GoNet


class NetRootPriors:
    """Softmax of a policy net over the legal moves of a position (illegal moves get 0)."""

    def __init__(self, net: GoNet, device: torch.device | str = "cpu") -> None:
        if not net.config.has_policy:
            raise ValueError("root priors need a network with a policy head")
        self.net = net.eval()
        self.device = torch.device(device)
        self.board_size = net.config.board_size

    def priors(self, game: _core.Game) -> npt.NDArray[np.float32]:
        """(size*size + 1,) probabilities, pass last, summing to 1 over the legal moves."""
        n = self.board_size
        if game.size != n:
            raise ValueError(f"the network plays {n}x{n}, not {game.size}x{game.size}")
        planes = np.zeros((1, self.net.config.input_planes, n, n), np.float32)
        _core.write_features_batch([game], planes, self.net.config.feature_set)
        with torch.inference_mode():
            out = self.net(torch.from_numpy(planes).to(self.device))
        assert out.policy is not None
        logits = out.policy.float().cpu().numpy()[0].astype(np.float64)
        legal = np.zeros(n * n + 1, dtype=bool)
        legal[list(game.legal_moves(game.to_move))] = True
        legal[n * n] = True  # pass
        logits = np.where(legal & np.isfinite(logits), logits, -np.inf)
        logits -= logits.max()
        p = np.exp(logits)
        return (p / p.sum()).astype(np.float32)

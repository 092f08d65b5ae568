"""One batch of requests: which client asked for what, and what it got, as
index arrays into the world's pools (no strings are touched here)."""

from __future__ import annotations

import numpy as np

from generators.world import DURATION_POOL, POPULARITY_TABLE, SIZE_POOL, TABLE, World


def sample(world: World, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    client = world.client_table[rng.integers(0, POPULARITY_TABLE, n)]
    request = world.request_table[rng.integers(0, POPULARITY_TABLE, n)]
    kind = world.request_class[request]
    response = world.response_table[kind, rng.integers(0, TABLE, n)]
    return {
        "client": client,
        "request": request,
        # A response is its status and one of that status's sizes, so the two
        # fields share one index (and fuse into one piece when adjacent).
        "response": response * SIZE_POOL + rng.integers(0, SIZE_POOL, n),
        "duration": kind.astype(np.int64) * DURATION_POOL + rng.integers(0, DURATION_POOL, n),
        "referer": world.referer_table[rng.integers(0, TABLE, n)],
    }


def time_indices(times: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The distinct whole seconds of a batch, and per line: which of them,
    and its millisecond and the microsecond within that millisecond."""
    whole = np.floor(times)
    fraction_us = np.minimum(((times - whole) * 1e6).astype(np.int64), 999_999)
    distinct, second = np.unique(whole.astype(np.int64), return_inverse=True)
    return distinct, {"second": second, "milli": fraction_us // 1000, "micro": fraction_us % 1000}

"""One batch of requests: which client asked for what, and what it got, as
index arrays into the world's pools (no strings are touched here)."""

from __future__ import annotations

import numpy as np

from generators.world import DURATION_POOL, POPULARITY_TABLE, SIZE_POOL, TABLE, World


def sample(world: World, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    # One draw of 32-bit integers serves every choice (the tables' sizes are
    # powers of two): six bounded draws cost a third more.
    bits = rng.integers(0, 1 << 32, (6, n), dtype=np.uint32)
    client = world.client_table[below(bits[0], POPULARITY_TABLE)]
    request = world.request_table[below(bits[1], POPULARITY_TABLE)]
    kind = world.request_class[request]
    response = world.response_table[kind, below(bits[2], TABLE)]
    return {
        "client": client,
        "request": request,
        # A response is its status and one of that status's sizes, so the two
        # fields share one index (and fuse into one piece when adjacent).
        "response": response * SIZE_POOL + below(bits[3], SIZE_POOL),
        "duration": kind.astype(np.int64) * DURATION_POOL + below(bits[4], DURATION_POOL),
        "referer": world.referer_table[below(bits[5], TABLE)],
    }


def below(bits: np.ndarray, size: int) -> np.ndarray:
    """Uniform integers in [0, size) from uniform 32-bit ones (their top
    bits); `size` is a power of two."""
    assert size & (size - 1) == 0, size
    return bits >> (33 - size.bit_length())


def time_indices(times: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The distinct whole seconds of a batch, and per line: which of them,
    and its millisecond and the microsecond within that millisecond."""
    whole = np.floor(times)
    fraction_us = np.minimum(((times - whole) * 1e6).astype(np.int64), 999_999)
    distinct, second = np.unique(whole.astype(np.int64), return_inverse=True)
    return distinct, {"second": second, "milli": fraction_us // 1000, "micro": fraction_us % 1000}

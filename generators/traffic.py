"""One batch of requests: which client asked for what, and what it got, as
index arrays into the world's pools (no strings are touched here). Each kind
of visitor walks the site its own way (its row of the request table);
monitors ask on their clock and failing back ends answer in bursts
(generators/incidents.py)."""

from __future__ import annotations

import numpy as np

from generators.incidents import failing, polls
from generators.site import CLASS
from generators.world import DURATION_POOL, POPULARITY_TABLE, SIZE_POOL, TABLE, World


def sample(world: World, rng: np.random.Generator, n: int, first_line: int = 0,
           clock_rate: float = 1000.0) -> dict[str, np.ndarray]:
    """Lines first_line .. first_line+n-1; `clock_rate` (lines per simulated
    second) spaces the monitors' polls."""
    # One draw of 32-bit integers serves every choice (the tables' sizes are
    # powers of two): six bounded draws cost a third more. The low bits of
    # two of them, unused by those choices, decide the failures.
    bits = rng.integers(0, 1 << 32, (6, n), dtype=np.uint32)
    client = world.client_table[below(bits[0], POPULARITY_TABLE)]
    request = world.request_table[world.client_kind[client], below(bits[1], POPULARITY_TABLE)]
    _poll(world, client, request, first_line, clock_rate)
    kind = world.request_class[request]
    response = world.response_table[kind, below(bits[2], TABLE)]
    down = failing(world.seed, first_line, n, kind, bits[2] & 0xFFFF)
    response[down] = world.response_table[CLASS["outage"], bits[3][down] & (TABLE - 1)]
    return {
        "client": client,
        "request": request,
        # A response is its status and one of that status's sizes, so the two
        # fields share one index (and fuse into one piece when adjacent).
        "response": response * SIZE_POOL + below(bits[3], SIZE_POOL),
        "duration": kind.astype(np.int64) * DURATION_POOL + below(bits[4], DURATION_POOL),
        "referer": world.referer_table[below(bits[5], TABLE)],
    }


def _poll(world: World, client: np.ndarray, request: np.ndarray, first_line: int, clock_rate: float) -> None:
    """Put each monitor's polls on their rows: its path, every interval."""
    for j, (who, what, interval) in enumerate(world.monitor_clients):
        every = interval * clock_rate
        rows = polls(first_line, len(client), every, every * (j + 0.5) / len(world.monitor_clients))
        client[rows] = who
        request[rows] = what


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

"""The run's batches as several generator processes claim them
(harness/transport/claims.py), driven by threads here: the protocol is the
same, and threads make a batch rendered out of order easy to provoke."""

from __future__ import annotations

import random
import threading
import time
from types import SimpleNamespace

import numpy as np

from harness.transport.claims import Claims

# What Claims.create needs of a multiprocessing context, for threads.
THREADS = SimpleNamespace(Lock=threading.Lock, RawValue=lambda structure: structure())


def run(claimers: int, lines: int, batch_lines: int = 100, realtime: bool = True, first: int = 0,
        stride: int = 1, stop_after: dict[int, int] | None = None) -> dict[int, tuple[int, np.ndarray]]:
    """Each claimer claims and stamps batches until none is left: index -> (its claimer, its times)."""
    claims = Claims.create(THREADS, lines, batch_lines, realtime, first, stride)
    out: dict[int, tuple[int, np.ndarray]] = {}

    def claimer(rank: int) -> None:
        window, rng = claims.window_clock(), np.random.default_rng()
        done = 0
        while done != (stop_after or {}).get(rank) and (claim := claims.claim(window)) is not None:
            index, n = claim
            time.sleep(random.random() / 1000)  # rendering takes unequal times
            out[index] = rank, (window.times(index * batch_lines, n, rng) if window else np.zeros(n))
            done += 1

    threads = [threading.Thread(target=claimer, args=(rank,)) for rank in range(claimers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive(), "a claimer waits for a lock that is never released"
    return out


def test_every_batch_is_claimed_once_and_the_last_one_is_short():
    out = run(3, 5_950, realtime=False)
    assert sorted(out) == list(range(60))
    assert [len(out[i][1]) for i in (0, 58, 59)] == [100, 100, 50]


def test_each_batch_starts_where_the_one_before_it_ended_whoever_stamps_it():
    out = run(3, 6_000)
    assert len({rank for rank, _ in out.values()}) > 1
    for index in range(59):
        assert np.all(np.diff(out[index][1]) >= 0)
        assert out[index][1].max() <= out[index + 1][1].min()


def test_a_shard_claims_only_its_own_batches():
    out = run(2, 10_000, realtime=False, first=1, stride=3)
    assert sorted(out) == list(range(1, 100, 3))


def test_a_claimer_stopping_early_lets_the_others_claim_the_rest():
    out = run(2, 4_000, realtime=False, stop_after={0: 5})
    assert sorted(out) == list(range(40))
    assert sum(rank == 0 for rank, _ in out.values()) == 5


def test_a_claimer_that_never_releases_the_lock_stops_the_others_only_until_the_run_stops():
    claims = Claims.create(THREADS, 1_000, 100)
    claims.lock.acquire()  # as a generator killed while it held it leaves it
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    assert claims.claim(stopped=stop.is_set, wait=0.05) is None
    assert time.monotonic() - started < 5


def test_peek_names_the_next_batch_and_none_past_the_end():
    claims = Claims.create(THREADS, 250, 100)
    assert [claims.peek(), claims.claim(), claims.peek(), claims.claim(), claims.claim(), claims.peek()] == \
        [0, (0, 100), 1, (1, 100), (2, 50), None]
    assert claims.claim() is None

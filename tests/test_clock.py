"""The wall clock that several generator processes take in turns
(--realtime with -P or several generators), driven by threads here: the
protocol is the same, and threads make a batch rendered out of order easy
to provoke."""

from __future__ import annotations

import random
import threading
import time
from types import SimpleNamespace

import numpy as np

from generators.clock import ClockInTurn
from harness.transport.turns import ring


def clocks(processes: int) -> list[ClockInTurn]:
    memory = SimpleNamespace(last=0.0, stopped=False)
    return [ClockInTurn(memory, mine, following) for mine, following in ring(threading, processes)]


def stamp(clock: ClockInTurn, batches: list[int], out: dict[int, np.ndarray], stop_after: int | None = None) -> None:
    rng = np.random.default_rng()
    for done, index in enumerate(batches):
        if done == stop_after:
            clock.stop()
            return
        time.sleep(random.random() / 1000)  # rendering takes unequal times
        out[index] = clock.times(index * 100, 100, rng)


def run(processes: int, batches: int, stop_after: dict[int, int] | None = None) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    threads = [threading.Thread(target=stamp, args=(clock, list(range(rank, batches, processes)), out,
                                                    (stop_after or {}).get(rank)))
               for rank, clock in enumerate(clocks(processes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive(), "a process waits for a turn that never comes"
    return out


def test_each_batch_starts_where_the_one_before_it_ended_whoever_stamps_it():
    out = run(3, 60)
    assert sorted(out) == list(range(60))
    for index in range(59):
        assert np.all(np.diff(out[index]) >= 0)
        assert out[index].max() <= out[index + 1].min()


def test_a_process_stopping_early_lets_the_others_go_on():
    out = run(2, 40, stop_after={0: 5})
    assert len(out) > 5
    assert all(out[i].max() <= out[i + 1].min() for i in range(9))

"""The observer role: for a sink run with --e2e, the sink's own reader
(`observe` in its module) runs here while the run produces, and each
latency it reports (arrival minus intended send time) goes into this
process's "e2e" histogram."""

from __future__ import annotations

import importlib
import threading
from typing import Any

import numpy as np

from harness.controls import WAIT_SLICE, Controls
from harness.runspec import SinkTarget
from harness.stats import StatsBoard


def observer_role(target: SinkTarget, controls: Controls, done: Any) -> dict:
    module = importlib.import_module(target.module)
    board = StatsBoard.attach(controls.board)
    slot = board.slot(controls.slot)
    e2e = slot.histogram("e2e")
    stop = threading.Event()

    def relay() -> None:
        while not done.wait(WAIT_SLICE) and not controls.abort.is_set():
            pass
        stop.set()

    def record(latencies_us: np.ndarray) -> None:
        e2e.record_many(latencies_us)
        slot.add("observed", len(latencies_us))

    threading.Thread(target=relay, daemon=True).start()
    try:
        controls.begin()
        module.observe(target.options, stop, record)
    finally:
        del slot, e2e, record  # the board's mapping closes only once no view of it is left
        board.close()
    return {}

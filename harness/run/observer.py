"""The observer role: for a sink run with --e2e, the sink's own reader
(`observe` in its module) runs here while the run produces, and each
latency it reports (arrival minus intended send time) goes into this
process's "e2e" histogram."""

from __future__ import annotations

import importlib
import threading
from typing import Any

import numpy as np

from harness.run.controls import WAIT_SLICE, Controls
from harness.run.spec import SinkTarget
from harness.transport.stats import StatsBoard


def observer_role(target: SinkTarget, controls: Controls, done: Any) -> dict:
    board = StatsBoard.attach(controls.board)
    try:
        _observe(importlib.import_module(target.module), target, board.slot(controls.slot), controls, done)
    finally:
        board.close()  # only once _observe has returned: no view of the board is left
    return {}


def _observe(module: Any, target: SinkTarget, slot: Any, controls: Controls, done: Any) -> None:
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
    controls.begin()
    module.observe(target.options, stop, record, controls.start_at.value)

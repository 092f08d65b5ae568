"""The read-back role: with --read-back, one process reads the far end of
the pipeline (harness/readback/) during the run and after it, and counts
each tagged line that arrives. End-to-end latencies (arrival minus the
pacer's intended time of the line) go into this process's "e2e" histogram,
so they reach the result file and the dashboard like an observer's.

It ends when every generated line has arrived, or when nothing new has
arrived for `quiet` seconds after sending ended (`done`), and reports its
tally (harness/readback/tally.py) to the supervisor.
"""

from __future__ import annotations

import time
from typing import Any

from generators.tag import find
from harness.readback.readers import open_reader
from harness.readback.tally import Tally
from harness.readback.target import ReadBack
from harness.run.controls import Controls
from harness.transport.stats import StatsBoard

READ_SLICE = 0.01  # longest wait for new lines: it adds to the latency measured
LONGEST_AFTER = 600.0  # after sending ended, read at most this long however lines trickle in


def read_back_role(read_back: ReadBack, controls: Controls, sources: tuple[int, ...], done: Any) -> dict:
    board = StatsBoard.attach(controls.board)
    try:
        return _read(read_back, board, board.slot(controls.slot), sources, controls, done)
    finally:
        board.close()  # only once _read has returned: no view of the board is left


def _read(read_back: ReadBack, board: StatsBoard, slot: Any, sources: tuple[int, ...], controls: Controls,
          done: Any) -> dict:
    reader = open_reader(read_back)  # before the start: a file's offset is taken now
    e2e = slot.histogram("e2e")
    pacer = controls.begin()
    tally = Tally(pacer.due_at if pacer is not None else None)
    last_arrival, ended, expected = time.time(), 0.0, 0
    try:
        while not controls.abort.is_set():
            for stream, chunk, lines in reader.read(READ_SLICE):
                last_arrival = time.time()
                latencies = tally.add(stream, find(chunk, read_back.run, lines), last_arrival)
                if len(latencies):
                    e2e.record_many(latencies)
                slot.add("observed", lines)
            slot.beat()
            if done.is_set():
                now = time.time()
                ended = ended or now
                expected = _generated(board, sources)
                if tally.seen >= expected or now - max(last_arrival, ended) > read_back.quiet or now - ended > LONGEST_AFTER:
                    break
    finally:
        reader.close()
    return {**tally.summary(expected), "url": read_back.url, "paced": pacer is not None,
            "waited_s": round(max(0.0, time.time() - ended), 3) if ended else 0.0}


def _generated(board: StatsBoard, sources: tuple[int, ...]) -> int:
    snapshot = board.snapshot()
    return sum(snapshot.value(slot, "generated") for slot in sources)


def check_read_back(read_back: ReadBack) -> None:
    """Before anything starts: the far end can be read (UserError if not).
    The reader is closed again, so no client thread is left at the fork."""
    reader = open_reader(read_back)
    try:
        reader.check()
    finally:
        reader.close()

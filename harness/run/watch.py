"""The supervisor's watch over its children: what each reported at its end,
how each that did not report ended, and which are stopped or hung.

Deaths are seen at once (a child's report pipe closes). A child found
stopped (SIGSTOP, in /proc) or hung (its stat slot's beat older than
HUNG_SECONDS, beyond the time the call it is in may legitimately take) is
killed here, with the reason, so that the run can end; what it held is then
counted in doubt or unsent (harness.run.accounting).
"""

from __future__ import annotations

import signal
import time
from typing import Any

from harness.transport.stats import StatsBoard

JOIN_SECONDS = 10.0
HUNG_SECONDS = 10.0
# A child must stay stopped this long to count: Ctrl-Z then `fg` stops and
# resumes every process, and one may be seen before it has resumed.
STOPPED_SECONDS = 1.0


class Watch:
    """The supervisor's view of its children: what they reported, and how
    those that did not report ended. A child found stopped (SIGSTOP) or hung
    is killed here, so that the run can end; its lines are then in doubt."""

    def __init__(self, children: dict, board: StatsBoard, slots: dict[str, int], outcome: Any, sink_of: dict) -> None:
        self.children, self.board, self.slots, self.outcome, self.sink_of = children, board, slots, outcome, sink_of
        self.verdicts: dict[str, str] = {}  # why we killed a child, said instead of "killed by signal SIGKILL"
        self.expected: set[str] = set()  # killed because the run was aborted anyway: not an error of theirs
        self.stopped_since: dict[str, float] = {}
        self.last_check = time.monotonic()
        self.resumed_ms = 0.0

    def collect(self) -> None:
        """Read what children reported; a child that ended without a report died."""
        for name, (process, conn) in self.children.items():
            if conn.closed:
                continue
            try:
                while conn.poll():
                    self._take(name, *conn.recv())
                    conn.close()
                    break
            except (EOFError, OSError):
                conn.close()
                process.join(JOIN_SECONDS)
                how = self.verdicts.get(name) or _death(process.exitcode)
                self.outcome.ended[name] = how
                if name not in self.expected:
                    self.outcome.errors.append(f"{name}: {how}")

    def _take(self, name: str, kind: str, payload: Any) -> None:
        """A child's report: its error, or what only it knows (failure reasons,
        fingerprints for verification, the per-second series)."""
        outcome = self.outcome
        if kind == "error":
            outcome.errors.append(f"{name}: {payload}")
            outcome.ended[name] = f"failed ({payload})"
        elif name.startswith("producer"):
            for reason, count in payload["failures"].items():
                outcome.failures[reason] = outcome.failures.get(reason, 0) + count
            outcome.fingerprints.setdefault(self.sink_of[name], []).append(payload["fingerprint"])
            if payload["down"] and payload["down"] not in outcome.notes:
                outcome.notes.append(payload["down"])  # its lines are counted failed: the status is 1
            if payload["reader_gone"]:
                outcome.reader_gone = payload["reader_gone"]
        elif name == "metrics":
            outcome.series = payload
        elif name == "read-back":
            outcome.read_back = payload

    def check_alive(self) -> None:
        """Kill, with the reason, any child that is stopped or hung. Progress
        is judged from when this watch last ran without a gap: after Ctrl-Z
        and `fg` every beat is old, and nobody hung."""
        now, now_ms = time.monotonic(), time.time() * 1000
        if now - self.last_check > STOPPED_SECONDS:
            self.resumed_ms = now_ms
        self.last_check = now
        beats = self.board.column("beat_ms")
        busy = self.board.column("busy_until_ms")
        for name, (process, conn) in self.children.items():
            if conn.closed or not process.is_alive() or name in self.verdicts:
                continue
            if _stopped(process.pid):
                if now - self.stopped_since.setdefault(name, now) >= STOPPED_SECONDS:
                    self._kill(name, "stopped by a signal (SIGSTOP?), killed")
                continue
            self.stopped_since.pop(name, None)
            slot = self.slots.get(name)
            if slot is not None and beats[slot]:
                quiet_ms = now_ms - max(beats[slot], busy[slot], self.resumed_ms)
                if quiet_ms > HUNG_SECONDS * 1000:
                    self._kill(name, f"no progress for {(now_ms - beats[slot]) / 1000:.0f} s (hung in a sink call?), killed")

    def kill_the_rest(self, sparing: str = "") -> None:
        """After an abort: SIGKILL every child still running (but `sparing`)."""
        for name, (process, conn) in self.children.items():
            if process.is_alive() and name not in self.verdicts and name != sparing:
                self.expected.add(name)
                self._kill(name, "killed, still running after the abort")

    def _kill(self, name: str, why: str) -> None:
        self.verdicts[name] = why
        self.children[name][0].kill()

    def alive(self, role_prefix: str = "") -> list[str]:
        return [name for name, (process, _) in self.children.items() if name.startswith(role_prefix) and process.is_alive()]


def _stopped(pid: int) -> bool:
    """Linux: the process is stopped by a signal (SIGSTOP, SIGTSTP). Not a
    tracing stop ("t"): a profiler or debugger pauses it for a moment."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] == b"T"
    except (OSError, IndexError):
        return False


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by signal {signal.Signals(-code).name}"
    return f"exited with status {code}"

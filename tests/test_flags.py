"""The run's shared flags across real processes: a set flag ends another
process's wait, a wait without it times out, and a waiter killed mid-wait
leaves the flag working for everyone else."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time

import pytest

from harness.transport.flags import Flags

LONG_WAIT = 60.0


def wait_and_report(flags: Flags, name: str, seen) -> None:
    seen.value = 1 if flags[name].wait(LONG_WAIT) else 2


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_flag_set_here_ends_a_long_wait_in_another_process(method):
    context = mp.get_context(method)
    flags = Flags(context, ("stop", "go"))
    seen = context.RawValue("i", 0)
    waiter = context.Process(target=wait_and_report, args=(flags, "go", seen))
    waiter.start()
    try:
        time.sleep(0.2)  # most likely asleep in its wait by now; either way it must see the flag
        flags["go"].set()
        waiter.join(LONG_WAIT / 2)  # a wait that missed the flag would last LONG_WAIT
        assert seen.value == 1
        assert not flags["stop"].is_set()
    finally:
        waiter.kill()
        waiter.join()


def test_a_wait_for_a_flag_nobody_sets_returns_false_after_its_timeout():
    flag = Flags(mp.get_context("fork"), ("stop",))["stop"]
    began = time.monotonic()
    assert flag.wait(0.2) is False
    assert time.monotonic() - began >= 0.2


def test_a_waiter_killed_while_waiting_leaves_the_flag_working():
    context = mp.get_context("fork")
    flags = Flags(context, ("go",))
    doomed_seen, other_seen = context.RawValue("i", 0), context.RawValue("i", 0)
    doomed = context.Process(target=wait_and_report, args=(flags, "go", doomed_seen))
    other = context.Process(target=wait_and_report, args=(flags, "go", other_seen))
    doomed.start()
    other.start()
    try:
        time.sleep(0.2)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.join()
        flags["go"].set()
        other.join(LONG_WAIT / 2)
        assert (doomed_seen.value, other_seen.value) == (0, 1)
        assert flags["go"].wait(0.0)
    finally:
        for process in (doomed, other):
            process.kill()
            process.join()

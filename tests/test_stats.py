"""Stat slots in shared memory: a process writes its slot, another reads them all."""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle

import numpy as np
import pytest

from generators.baddata import KINDS
from harness.transport.stats import COUNTERS, StatsBoard
from tests.fixtures.processes import left_over, segments

SPAWN = mp.get_context("spawn")


@pytest.fixture
def board():
    board = StatsBoard.create(3)
    yield board
    board.close()


def work(handle, slot: int) -> None:
    """What a producer process does with its slot."""
    board = StatsBoard.attach(handle)
    mine = board.slot(slot)
    mine.add("sent", 300)
    mine.add("delivered", 290)
    mine.add("failed", 10)
    mine.add("bad_bad_ip", 4)
    mine.set("lag_us", 1500)
    mine.histogram("publish").record_many(np.arange(1, 1001))
    mine.histogram("e2e").record(2_000_000)


def test_counters_name_every_total_and_every_bad_data_kind():
    for name in ("generated", "bad", "sent", "delivered", "failed", "bytes", "late", "lag_us", "ring_fill_ppm", "batches"):
        assert name in COUNTERS
    assert {f"bad_{kind}" for kind in KINDS} <= set(COUNTERS)
    assert len(set(COUNTERS)) == len(COUNTERS)


def test_a_spawned_process_writes_its_slot_and_the_reader_sees_it(board):
    process = SPAWN.Process(target=work, args=(board.handle, 1))
    process.start()
    process.join(60)
    assert process.exitcode == 0
    snapshot = board.snapshot()
    assert snapshot.value(1, "sent") == 300 and snapshot.value(0, "sent") == 0
    assert snapshot.total("delivered") + snapshot.total("failed") == snapshot.total("sent")
    assert snapshot.value(1, "bad_bad_ip") == 4
    assert snapshot.value(1, "lag_us") == 1500
    assert snapshot.histograms["publish"].total_count == 1000
    assert snapshot.histograms["publish"].percentile(50) == 500
    assert snapshot.slot_histograms["e2e"][1].total_count == 1
    assert snapshot.slot_histograms["e2e"][0].total_count == 0


def test_histograms_merge_over_slots_exactly(board):
    for i in range(3):
        slot = board.slot(i)
        slot.histogram("e2e").record_many(np.full(10, (i + 1) * 100))
        del slot
    merged = board.snapshot().histograms["e2e"]
    assert merged.total_count == 30
    assert (merged.min, merged.percentile(50), merged.max) == (100, 200, 300)


def test_a_snapshot_is_a_copy(board):
    slot = board.slot(0)
    slot.add("sent", 5)
    before = board.snapshot()
    slot.add("sent", 5)
    slot.histogram("publish").record(10)
    assert before.total("sent") == 5 and before.histograms["publish"].total_count == 0
    assert board.snapshot().total("sent") == 10
    del slot


def test_since_gives_what_happened_between_two_snapshots_and_keeps_gauge_levels(board):
    slot = board.slot(2)
    slot.add("delivered", 100)
    slot.set("ring_fill_ppm", 500_000)
    slot.histogram("publish").record(5)
    first = board.snapshot()
    slot.add("delivered", 40)
    slot.set("ring_fill_ppm", 250_000)
    slot.histogram("publish").record(7000, count=3)
    delta = board.snapshot().since(first)
    assert delta.total("delivered") == 40
    assert delta.value(2, "ring_fill_ppm") == 250_000
    assert delta.histograms["publish"].total_count == 3
    assert delta.histograms["publish"].min >= 7000
    assert delta.slot_histograms["publish"][2].total_count == 3
    del slot


def test_an_unknown_counter_is_an_error(board):
    slot = board.slot(0)
    with pytest.raises(KeyError):
        slot.add("sentt", 1)
    del slot


def test_other_histogram_names():
    board = StatsBoard.create(1, histograms=("publish",))
    try:
        slot = board.slot(0)
        slot.histogram("publish").record(3)
        with pytest.raises(KeyError):
            slot.histogram("e2e")
        assert board.snapshot().histograms["publish"].total_count == 1
        del slot
    finally:
        board.close()


def test_a_board_leaves_nothing_in_dev_shm_and_goes_with_its_last_mapping():
    board = StatsBoard.create(2)
    [inode] = segments(os.getpid())
    process = SPAWN.Process(target=work, args=(board.handle, 1))
    process.start()
    process.join(60)
    assert process.exitcode == 0
    assert board.snapshot().value(1, "sent") == 300
    assert not [name for name in os.listdir("/dev/shm") if name.startswith("psm_")]  # no named segment, ours or another test's
    board.close()
    assert not left_over({inode})


def test_a_board_handle_goes_only_to_a_process_being_started(board):
    with pytest.raises(TypeError, match="as it is started"):
        pickle.dumps(board.handle)

"""Micro-benchmarks of line generation: one batch of each format
(`pytest tests/bench --benchmark-enable`); lines/s = batch_lines / mean."""

from __future__ import annotations

import itertools

import pytest

from generators import FORMATS
from generators.factory import LineFactory, LineSpec


@pytest.mark.parametrize("name", list(FORMATS))
def test_render_batch(benchmark, name):
    factory = LineFactory(LineSpec(format=name, seed=1))
    indexes = itertools.count()
    batch = benchmark(lambda: factory.render(next(indexes)))
    assert batch.lines == factory.spec.batch_lines
    benchmark.extra_info["lines_per_batch"] = batch.lines


def test_render_batch_with_bad_data(benchmark):
    factory = LineFactory(LineSpec(format="apache", seed=1, baddata=40))
    indexes = itertools.count()
    batch = benchmark(lambda: factory.render(next(indexes)))
    assert sum(batch.bad.values()) > 0

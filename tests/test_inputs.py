"""How `stream` cuts its inputs into chunks of whole lines (pure logic: the
chunks reach the rings as they are)."""

from __future__ import annotations

import io

import pytest

from harness.sources.files import whole_lines


@pytest.mark.parametrize("chunk_bytes", [1, 7, 64, 1 << 20])
def test_chunks_hold_whole_lines_whatever_their_size_and_a_last_line_gets_its_newline(chunk_bytes):
    lines = b"".join(b"%d %s\n" % (n, b"x" * (n * 13 % 300)) for n in range(2000)) + b"no newline"
    chunks = [bytes(chunk) for chunk in whole_lines(io.BytesIO(lines), chunk_bytes)]
    assert all(chunk.endswith(b"\n") and chunk.count(b"\n") for chunk in chunks)
    assert b"".join(chunks) == lines + b"\n"

"""The lines of a replay, read whole before it starts (its schedule needs
every line's time), with the time read from each (harness/sources/timestamps.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from harness.sources.timestamps import Stamp, TimeReader, rewrite


@dataclass
class Recorded:
    lines: list[bytes]  # each with its newline
    stamps: list[Stamp | None]  # None: no time could be read

    @property
    def times(self) -> Iterator[float | None]:
        return (None if stamp is None else stamp.time for stamp in self.stamps)

    def retimed(self, times: Iterable[float]) -> None:
        """Write `times` into the lines, one each, where their own time was."""
        self.lines = [line if stamp is None else rewrite(line, stamp, time)
                      for line, stamp, time in zip(self.lines, self.stamps, times)]

    def chunks(self, chunk_bytes: int) -> Iterator[bytes]:
        """The lines again, in chunks of whole lines of about `chunk_bytes`."""
        start = size = 0
        for end, line in enumerate(self.lines, 1):
            size += len(line)
            if size >= chunk_bytes:
                yield b"".join(self.lines[start:end])
                start, size = end, 0
        if start < len(self.lines):
            yield b"".join(self.lines[start:])


def record(chunks: Iterable[bytes]) -> Recorded:
    reader = TimeReader()
    lines = []
    for chunk in chunks:
        parts = bytes(chunk).split(b"\n")  # the chunk's memory is reused for the next
        lines += [part + b"\n" for part in parts[:-1]]
        if parts[-1]:  # a last line without its newline
            lines.append(parts[-1])
    return Recorded(lines, [reader.read(line) for line in lines])

"""Turns passed round N processes in a fixed order (rank 0, 1, ..., N-1, 0,
...): each waits for its own semaphore and, done, releases the next one's.
Blocking waits, no spinning."""

from __future__ import annotations

from typing import Any

from generators.clock import ClockInTurn, LastStamp


def ring(context: Any, processes: int) -> list[tuple[Any, Any]]:
    """Per rank: (its turn, the next rank's turn); rank 0 goes first."""
    turns = [context.Semaphore(1 if rank == 0 else 0) for rank in range(processes)]
    return [(turns[rank], turns[(rank + 1) % processes]) for rank in range(processes)]


def clocks_in_turn(context: Any, processes: int, realtime: bool) -> list[ClockInTurn | None]:
    """Per rank: the one wall clock that --realtime processes rendering
    batches in turn share, so that stamps never go back between batches;
    None each when there is no such clock to share."""
    if not realtime or processes == 1:
        return [None] * processes
    memory = context.RawValue(LastStamp)
    return [ClockInTurn(memory, mine, following) for mine, following in ring(context, processes)]

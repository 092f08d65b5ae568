"""The Redis sink's conversations that are not the hot path, on the redis
client: the check before a run, --verify (XRANGE the run's entries back) and
--e2e (XREAD while the run writes).

A run's entries are told from an earlier run's in the same stream by their
IDs, which are the server's clock in milliseconds: those from the run's
start on are the run's.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from harness.errors import UserError
from sinks.kafka_verify import fingerprint_sum, judge

# The entries' layout, which the sink writes (sinks/redis.py) and this reads.
FIELD = b"line"
STAMP = b"t"  # --e2e: the line's intended send time, epoch milliseconds
CONNECT_TIMEOUT = 5.0
READ_COUNT = 10_000
E2E_BLOCK_MS = 100
CLOCK_SLACK_MS = 1_000  # the server's clock may be behind ours: read from a little before the start


def client(options):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries: the client's default (three, with backoff) makes a refused
    # connection a 4 s wait, and a dead server in --verify a long one.
    return redis.Redis(host=options.host, port=options.port, db=options.db, username=options.username or None,
                       password=options.password or None, socket_connect_timeout=CONNECT_TIMEOUT,
                       socket_timeout=options.timeout, protocol=2,
                       retry=Retry(NoBackoff(), 0))


def checked(options) -> None:
    import redis

    try:
        kind = client(options).type(options.stream).decode()
    except redis.AuthenticationError as error:
        if not options.password:
            raise UserError(f"{options.where} refused to log in without a password: put it in "
                            "--url redis://:PASSWORD@HOST or REDIS_PASSWORD") from None
        raise UserError(f"{options.where} refused to log in ({_first_line(error)}): check the password "
                        "(--url redis://:PASSWORD@HOST or REDIS_PASSWORD)") from None
    except redis.ResponseError as error:
        raise UserError(f"{options.where}: {_first_line(error)}") from None
    except redis.RedisError as error:
        raise UserError(f"cannot reach {options.where}: {_first_line(error)}") from None
    if kind not in ("none", "stream"):
        raise UserError(f"{options.where}: key {options.stream!r} holds a {kind}, not a stream")


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def run_entries(options, since: float):
    """Batches of (ID, fields) of the entries from `since` on."""
    reader = client(options)
    start = f"{max(0, int(since * 1000) - CLOCK_SLACK_MS)}-0"
    while entries := reader.xrange(options.stream, start, "+", count=READ_COUNT):
        yield entries
        last = entries[-1][0].decode()
        start = "(" + last


def verify(options, expected_count: int, expected_sum: int, since: float) -> tuple[bool, str]:
    import redis

    count, total = 0, 0
    try:
        for entries in run_entries(options, since):
            values = [fields.get(FIELD, b"") for _, fields in entries]
            count += len(values)
            total += fingerprint_sum(values)
    except redis.RedisError as error:
        return False, f"verify failed: cannot read {options.stream} back from {options.where}: {_first_line(error)}"
    result = judge(expected_count, expected_sum % 2**64, count, total % 2**64, f"stream {options.stream}")
    return result.ok, result.message


def e2e_reader(options, stop: threading.Event, record: Callable, since: float) -> None:
    """XREAD the stream while the run writes, calling record() with the
    latencies (microseconds) of each batch read: arrival - intended time."""
    import numpy as np
    import redis

    reader = client(options)
    last = f"{max(0, int(since * 1000) - CLOCK_SLACK_MS)}-0"
    floor = int(since * 1000)
    while not stop.is_set():
        try:
            found = reader.xread({options.stream: last}, count=READ_COUNT, block=E2E_BLOCK_MS)
        except redis.RedisError:
            time.sleep(0.1)  # the run counts the sink's failures; the reader just tries again
            continue
        for _, entries in found:
            now_us = int(time.time() * 1e6)
            stamps = np.fromiter((int(fields.get(STAMP, 0)) for _, fields in entries), dtype=np.int64)
            stamps = stamps[stamps >= floor]
            if len(stamps):
                record(now_us - stamps * 1000)
            last = entries[-1][0]

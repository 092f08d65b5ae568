"""The NATS sink's conversations besides publishing, on nats-py: connecting
(with credentials, errors in one line without them), the check before a run
(the JetStream stream exists or is created), --verify (the run's messages
read back with an ephemeral pull consumer) and --e2e (a core subscription on
the subject, reading the intended time each message carries).
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timezone
from typing import Callable

from harness.errors import UserError
from sinks.kafka_verify import fingerprint_sum, judge

CONNECT_TIMEOUT = 2.0
STAMP = "Logstorm-Intended"  # --e2e: header holding the line's intended send time, epoch milliseconds
SETTLE = 1.0  # after the expected count arrived, wait this long for duplicates before saying "exactly once"
VERIFY_IDLE = 5.0


class Refused(Exception):
    """Connecting failed; the message names the server, never a credential."""


async def connect(options, **callbacks):
    """A connection that does not reconnect on its own: the sink counts the
    lines of a broken one failed and connects again for the next send."""
    import nats

    errors: list[str] = []

    async def remember(error: Exception) -> None:
        errors.append(_describe(error))

    # max_reconnect_attempts 0 makes nats-py retry a refused first connection forever.
    settings = dict(servers=list(options.servers), connect_timeout=CONNECT_TIMEOUT, allow_reconnect=False,
                    max_reconnect_attempts=1, reconnect_time_wait=0.05, error_cb=callbacks.pop("error_cb", remember),
                    pending_size=64 << 20, **callbacks)
    if options.creds:
        settings["user_credentials"] = options.creds
    if options.user:
        settings |= {"user": options.user, "password": options.password}
    if options.token:
        settings["token"] = options.token
    try:
        return await asyncio.wait_for(nats.connect(**settings), CONNECT_TIMEOUT * (len(options.servers) + 1))
    except Exception as error:  # nats-py raises several kinds, each named below
        reason = errors[-1] if errors else _describe(error)
        raise Refused(f"cannot connect to NATS at {', '.join(options.servers)}: {reason}") from None


def _describe(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return f"no answer within {CONNECT_TIMEOUT:g} s"
    text = str(error).strip().removeprefix("nats: ").strip("'")
    return text or type(error).__name__


def checked(options) -> None:
    try:
        asyncio.run(_ensure_stream(options))
    except Refused as error:
        raise UserError(str(error)) from None


async def _ensure_stream(options) -> None:
    """The stream takes the subject, or is created for it: file storage,
    limits retention with no limits (messages are kept until deleted)."""
    from nats.js.errors import NotFoundError

    nc = await connect(options)
    try:
        js = nc.jetstream(timeout=CONNECT_TIMEOUT * 2)
        try:
            holder = await js.find_stream_name_by_subject(options.subject)
        except NotFoundError:
            holder = None
        except Exception as error:
            raise UserError(f"NATS at {', '.join(options.servers)} has no JetStream ({_describe(error)}): "
                            "start nats-server with -js") from None
        if holder == options.stream:
            return
        if holder is not None:
            raise UserError(f"subject {options.subject!r} belongs to JetStream stream {holder!r}, not "
                            f"{options.stream!r}: give --stream {holder}")
        try:
            info = await js.stream_info(options.stream)
        except NotFoundError:
            info = None
        if info is not None:
            raise UserError(f"JetStream stream {options.stream!r} takes subjects {', '.join(info.config.subjects)}, "
                            f"not {options.subject!r}: give another --stream (created for it) or --subject")
        try:
            await js.add_stream(name=options.stream, subjects=[options.subject], retention="limits",
                                storage="file")
        except Exception as error:
            raise UserError(f"cannot create JetStream stream {options.stream!r} for subject {options.subject!r}: "
                            f"{_describe(error)}") from None
    finally:
        await nc.close()


def verify(options, expected_count: int, expected_sum: int, since: float) -> tuple[bool, str]:
    try:
        count, total = asyncio.run(_read_back(options, expected_count, since))
    except Refused as error:
        return False, f"verify failed: {error}"
    result = judge(expected_count, expected_sum % 2**64, count, total % 2**64, f"stream {options.stream}")
    return result.ok, result.message


async def _read_back(options, expected: int, since: float) -> tuple[int, int]:
    """Count and hash the subject's messages stored from `since` on, with an
    ordered push consumer (a pull consumer's fetch reads about 3,000 a second
    here, this about 20,000)."""
    from nats.js.api import ConsumerConfig, DeliverPolicy

    nc = await connect(options)
    values: list[bytes] = []
    arrived = asyncio.Event()

    async def take(message) -> None:
        values.append(message.data)
        arrived.set()

    try:
        start = datetime.fromtimestamp(since, timezone.utc).isoformat().replace("+00:00", "Z")
        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=start)
        await nc.jetstream().subscribe(options.subject, stream=options.stream, cb=take, ordered_consumer=True,
                                       config=config, pending_msgs_limit=1 << 20, pending_bytes_limit=-1)
        while True:
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), SETTLE if len(values) >= expected else VERIFY_IDLE)
            except asyncio.TimeoutError:
                break
    finally:
        await nc.close()
    return len(values), fingerprint_sum(values)


def e2e_reader(options, stop: threading.Event, record: Callable, since: float) -> None:
    asyncio.run(_e2e(options, stop, record, since))


async def _e2e(options, stop: threading.Event, record: Callable, since: float) -> None:
    """A core subscription on the subject sees each message as the server
    routes it; latency = arrival - the intended time in its header."""
    import numpy as np

    floor = int(since * 1000)
    latencies: list[int] = []

    async def arrived(message) -> None:
        stamp = int((message.headers or {}).get(STAMP, 0))
        if stamp >= floor:
            latencies.append(int(time.time() * 1e6) - stamp * 1000)

    while not stop.is_set():
        try:
            nc = await connect(options)
            break
        except Refused:
            await asyncio.sleep(0.5)
    else:
        return
    try:
        await nc.subscribe(options.subject, cb=arrived, pending_msgs_limit=1 << 20)
        while not stop.is_set():
            await asyncio.sleep(0.01)
            if latencies:
                taken, latencies[:] = latencies[:], []
                record(np.array(taken, dtype=np.int64))
    finally:
        await nc.close()

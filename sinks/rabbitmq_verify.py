"""--verify for RabbitMQ: read --queue back without taking anything off it
(every message is left unacknowledged and goes back when the channel
closes), counting this run's messages (app_id = the run id) and their
fingerprint (sinks/kafka_verify.py)."""

from __future__ import annotations

from sinks.kafka_verify import fingerprint_sum, judge

SETTLE = 1.0  # the queue gave nothing for this long: look whether it holds more
READ_BATCH = 10_000


def verify(options, connection, fingerprints: list) -> tuple[bool, str]:
    """Every delivered line of this run (sinks.rabbitmq.Options) is in
    --queue exactly once; `connection` is a pika BlockingConnection, closed here."""
    prints = [f for f in fingerprints if f]
    count, total = read_back(options, connection)
    result = judge(sum(c for c, _ in prints), sum(s for _, s in prints) % 2**64, count, total % 2**64,
                   f"queue {options.queue}")
    return result.ok, result.message


def read_back(options, connection) -> tuple[int, int]:
    """(count, unreduced fingerprint sum) of this run's messages in the queue
    (others' are skipped), read until it has none left to give us."""
    count, total, batch = 0, 0, []
    try:
        channel = connection.channel()
        for method, properties, body in channel.consume(options.queue, inactivity_timeout=SETTLE):
            if method is not None:
                if properties.app_id == options.run_id:
                    batch.append(body)
                if len(batch) < READ_BATCH:
                    continue
            count, total, batch = count + len(batch), total + fingerprint_sum(batch), []
            if method is None and channel.queue_declare(options.queue, passive=True).method.message_count == 0:
                break
    finally:
        connection.close()  # nothing was acknowledged: it all goes back on the queue
    return count + len(batch), total + fingerprint_sum(batch)

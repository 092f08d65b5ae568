"""librdkafka's voice: its log lines and error events, readable on stderr
(never stdout: that may carry the data), each distinct line at most once a
minute; and, for the start-up check, the last error kept instead of printed."""

from __future__ import annotations

import logging
import sys
import time
from typing import Callable


class Captured:
    """Keeps the last librdkafka error instead of printing it: check() turns
    it into one line for the user. "1/1 brokers are down" is only the sum of
    the failures before it, so it never replaces a cause already held (which
    one came last depended on timing: an authentication failure was lost
    about one check in ten)."""

    def __init__(self) -> None:
        self.last = ""
        self.logger = logging.getLogger("logstorm.kafka.check")
        self.logger.propagate = False
        self.logger.handlers[:] = [_Call(self._log)]

    def _log(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR and not (self.last and _facility(record) == "ALL_BROKERS_DOWN"):
            self.last = _message(record)


class _Call(logging.Handler):
    def __init__(self, call: Callable[[logging.LogRecord], None]) -> None:
        super().__init__()
        self.call = call

    def emit(self, record: logging.LogRecord) -> None:
        self.call(record)


def _librdkafka(record: logging.LogRecord) -> bool:
    # confluent-kafka logs ("%s [%s] %s", facility, client name, message).
    return isinstance(record.args, tuple) and len(record.args) == 3


def _message(record: logging.LogRecord) -> str:
    return str(record.args[2]) if _librdkafka(record) else record.getMessage()


def _facility(record: logging.LogRecord) -> str:
    return str(record.args[0]) if _librdkafka(record) else "-"


class _Format(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"kafka: {record.levelname} {_facility(record)}: {_message(record)}"


class _Once(logging.Filter):
    """librdkafka repeats a failure at every reconnect (several a second while
    a broker is down): say each distinct line once a minute, not hundreds of times."""

    QUIET = 60.0

    def __init__(self) -> None:
        super().__init__()
        self.said: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        line, now = _message(record), time.monotonic()
        if now - self.said.get(line, -self.QUIET) < self.QUIET:
            return False
        if len(self.said) > 1000:  # many distinct lines: forget the old ones
            self.said.clear()
        self.said[line] = now
        return True


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (it may be replaced after the logger is made)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _) -> None:
        pass


def stderr_logger() -> logging.Logger:
    """librdkafka's own log lines, readable, on stderr (never stdout: it may carry data)."""
    logger = logging.getLogger("logstorm.kafka")
    if not logger.handlers:
        handler = _Stderr()
        handler.setFormatter(_Format())
        handler.addFilter(_Once())
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.DEBUG)  # librdkafka logs debug lines only when -e debug=... asks
    return logger


def log_error(logger: logging.Logger, error) -> None:
    """librdkafka's error events (all brokers down, a fatal idempotence error...), logged like its log lines."""
    logger.error("%s [%s] %s", error.name().lstrip("_"), "", error.str())

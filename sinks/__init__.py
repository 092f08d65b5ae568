"""Sinks, found by name. Each is one module; it is imported only when a run
uses it, so `stream stdout` never loads boto3 or librdkafka."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from harness.extras import require

SINKS = {
    "stdout": "sinks.stdout",
    "null": "sinks.null",
    "filesystem": "sinks.filesystem",
    "kafka": "sinks.kafka",
    "s3": "sinks.s3",
    "kinesis": "sinks.kinesis",
    "syslog": "sinks.syslog",
    "redis": "sinks.redis",
    "nats": "sinks.nats",
    "rabbitmq": "sinks.rabbitmq",
    "mqtt": "sinks.mqtt",
}
ALIASES = {"file": "filesystem"}
# The extra (harness/extras.py) whose client a sink imports.
EXTRAS = {"s3": "aws", "kinesis": "aws", "redis": "redis", "nats": "nats", "rabbitmq": "rabbitmq", "mqtt": "mqtt"}
# What every sink defines (sinks/base.py says what each is for).
CONTRACT = ("NAME", "HELP", "add_arguments", "options", "check", "create")


def sink_names() -> list[str]:
    return [name for name, module in SINKS.items() if importlib.util.find_spec(module)]


def sink_module(name: str) -> ModuleType:
    """A registered sink, or any importable module that follows the sink
    contract, named by its dotted path (`--sink mypackage.mysink`)."""
    if "." in name:
        try:
            module = importlib.import_module(name)
        except ImportError as error:
            raise KeyError(f"cannot import sink module {name!r}: {error}") from None
        return follows_contract(module, name)
    key = ALIASES.get(name.lower(), name.lower())
    if key not in SINKS or not importlib.util.find_spec(SINKS[key]):
        raise KeyError(f"unknown sink {name!r} (sinks: {', '.join(sink_names())})")
    if key in EXTRAS:
        require(EXTRAS[key], f"the {key} sink")
    return importlib.import_module(SINKS[key])


def follows_contract(module: ModuleType, name: str) -> ModuleType:
    """`module`, if it defines what a sink must; a KeyError naming what it lacks."""
    missing = [part for part in CONTRACT if not hasattr(module, part)]
    if missing:
        raise KeyError(f"sink module {name!r} is not a sink: it lacks {', '.join(missing)} (see sinks/base.py)")
    return module

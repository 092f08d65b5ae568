"""Facts about the machine a run happened on, for the result file, so that
`logstorm compare` can warn when two runs did not share a machine. Cheap:
a few small files under /proc and no imports of heavy libraries."""

from __future__ import annotations

import os
import platform
import socket
import sys
from importlib import metadata

# The facts that make two machines comparable; the others (hostname,
# kernel) change between identical CI runners and are only informative.
COMPARABLE = ("cpu_model", "cores", "memory_bytes", "os", "python", "numpy", "librdkafka")


def host(kafka: bool = False) -> dict:
    """CPU, cores, memory, OS, Python and library versions of this machine.
    `kafka`: the run used a Kafka sink, so librdkafka's version matters (and
    confluent_kafka may be imported; otherwise it is not)."""
    facts = {
        "hostname": socket.gethostname(),
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "os": platform.system(),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "numpy": _version("numpy"),
    }
    if kafka:
        facts["librdkafka"] = _librdkafka()
    return facts


def _cpu_model() -> str | None:
    fields = _proc_fields("/proc/cpuinfo")
    for key in ("model name", "Hardware", "Processor", "cpu model"):  # x86, then ARM and others
        if key in fields:
            return fields[key]
    return platform.processor() or None


def _memory_bytes() -> int | None:
    total = _proc_fields("/proc/meminfo").get("MemTotal")  # "24576000 kB"
    try:
        return int(total.split()[0]) * 1024 if total else None
    except ValueError:
        return None


def _proc_fields(path: str) -> dict[str, str]:
    """`key : value` lines of a /proc file, first occurrence of each key."""
    fields: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.partition(":")
                if sep:
                    fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _librdkafka() -> str | None:
    if "confluent_kafka" not in sys.modules and _version("confluent-kafka") is None:
        return None
    try:
        import confluent_kafka
    except ImportError:
        return None
    return confluent_kafka.libversion()[0]

"""Facts about the machine a run happened on, for the result file, so that
`logstorm compare` can warn when two runs did not come from the same class
of machine. Cheap: a few small files under /proc and no imports of heavy
libraries."""

from __future__ import annotations

import os
import platform
import socket

# The facts that change performance, and how close two values must be to
# count as the same. The others (hostname, numpy) are only informative.
EXACT = ("cpu_model", "cores", "python", "librdkafka")
MEMORY_TOLERANCE = 0.05  # identical VMs report MemTotal some hundred KB apart (firmware, kernel reservations)


def differences(base: dict, new: dict) -> list[str]:
    """The performance-relevant facts in which two hosts differ, as
    "cores 2 vs 4"; a fact one side lacks is not a difference."""
    found = [f"{key} {base[key]!r} vs {new[key]!r}" for key in EXACT
             if base.get(key) is not None and new.get(key) is not None and base[key] != new[key]]
    memory = base.get("memory_bytes"), new.get("memory_bytes")
    if all(memory) and abs(memory[0] - memory[1]) > MEMORY_TOLERANCE * max(memory):
        found.append(f"memory {memory[0] / 2**30:.1f} GiB vs {memory[1] / 2**30:.1f} GiB")
    kernels = _kernel_series(base.get("kernel")), _kernel_series(new.get("kernel"))
    if all(kernels) and kernels[0] != kernels[1]:
        found.append(f"kernel {base['kernel']} vs {new['kernel']}")
    return found


def _kernel_series(release: str | None) -> str | None:
    """"6.8.0-1017-azure" -> "6.8": patch releases and builds of one series
    do not change a benchmark the way a new series (scheduler, network) can."""
    if not release:
        return None
    return ".".join(release.split("-")[0].split(".")[:2])


def host(kafka: bool = False) -> dict:
    """CPU, cores, memory, OS, Python and library versions of this machine.
    `kafka`: the run used a Kafka sink, so librdkafka's version matters."""
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
        "numpy": _numpy(),
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


def _numpy() -> str | None:
    """numpy's version, from numpy itself (a run has it loaded already;
    importlib.metadata alone took 20 ms of every run's end)."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy.__version__


def _librdkafka() -> str | None:
    """The version of the librdkafka the Kafka sink calls (the confluent-kafka wheel's), asked through ctypes."""
    from harness.errors import UserError
    from sinks.kafka_batch import librdkafka

    try:
        return librdkafka().rd_kafka_version_str().decode()
    except (UserError, OSError):
        return None

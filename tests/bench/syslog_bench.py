"""Syslog over TCP side by side, both framings, from one run of this script:
logstorm's syslog sink against syslog-ng's loggen and a plain socket loop,
each into a fresh rsyslog of the same config (tests' own: imtcp, omfile).

    python tests/bench/syslog_bench.py [--lines 500000] [--repeat 3] [--framing both|octet-counting|lf]

  loggen        syslog-ng's C load generator: RFC 5424, `-P` (octet counting,
                or LF with `-F`), `-s` the mean size of logstorm's messages
  plain socket  a Python loop sending, in 1 MiB sendall()s, the very bytes
                logstorm sent (captured from rsyslog's file, framed here):
                no generation, no framing, no acks; what rsyslog can take
  logstorm run  `run --sink syslog --envelope rfc5424 --framing F`: lines
                generated as they go (generation shares the cores with rsyslog)
  logstorm stream FILE
                `stream syslog --envelope rfc5424 --framing F FILE` of the
                same lines, unenveloped, from a file: the sink without generation

Every sender uses one TCP connection and N messages, counted at rsyslog's
output file as it grows; a side counts only if all N arrived. Two rates:
"stream" is N over the time from the first message's arrival to the last's
(what the connection carried), "command" is N over the time from the
command's launch (start-up included: logstorm's is about a third of a second,
loggen's a few milliseconds). CPU seconds are the sender's (all its
processes) and rsyslog's (all its threads), in the run of the best stream
rate. Each rate is the best of
--repeat runs (and the median of their stream rates beside it), the sides
interleaved so that a busy spell hits each alike; a ratio is a logstorm
row's stream rate over the faster of loggen's and the plain loop's, of the
best runs and of the medians.

loggen comes from Debian's syslog-ng-core, unpacked rather than installed
(it conflicts with rsyslog): harness/servers/syslog_ng.py.

Not a pytest test: it wants the machine to itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from harness.servers.rsyslog import Rsyslog  # noqa: E402
from harness.servers.syslog_ng import loggen, unpack  # noqa: E402
from sinks.syslog_wire import framed, strip_envelope  # noqa: E402

SEED = "42"
ARRIVAL_TIMEOUT = 300.0
POLL = 0.005
FRAMINGS = ("octet-counting", "lf")
PLAIN_PIECE = 1 << 20
# The plain socket loop, run as its own process like the other senders.
PLAIN = f"""
import socket, sys
data = memoryview(open(sys.argv[1], "rb").read())
with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as sock:
    for at in range(0, len(data), {PLAIN_PIECE}):
        sock.sendall(data[at:at + {PLAIN_PIECE}])
"""


@dataclass(frozen=True)
class Run:
    stream: float  # messages/s, first arrival to last
    command: float  # messages/s, launch to last arrival
    sender_cpu: float
    rsyslog_cpu: float


def logstorm_side(lines: int, framing: str, generators: int):
    def command(port: int) -> tuple[list[str], dict | None]:
        return [sys.executable, "-m", "harness", "run", "--lines", str(lines), "--seed", SEED, "-q", "--sink", "syslog",
                "--target", f"tcp://127.0.0.1:{port}", "--envelope", "rfc5424", "--framing", framing,
                "--generators", str(generators)], None
    return command


def stream_side(lines_file: Path, framing: str):
    def command(port: int) -> tuple[list[str], dict | None]:
        return [sys.executable, "-m", "harness", "stream", "syslog", "-q", "--target", f"tcp://127.0.0.1:{port}",
                "--envelope", "rfc5424", "--framing", framing, str(lines_file)], None
    return command


def loggen_side(root: Path, lines: int, size: int, framing: str):
    unframed = ["-F"] if framing == "lf" else []  # -P frames by octet counting unless -F
    def command(port: int) -> tuple[list[str], dict | None]:
        # -I: loggen stops after 10 s by default, however many it was asked to send;
        # loggen -s N gives messages of N - 1 bytes in rsyslog's file (measured)
        return loggen(root, "-i", "-S", "-P", *unframed, "-Q", "-r", "100000000", "-n", str(lines), "-I", "3600",
                      "-s", str(size + 1), "127.0.0.1", str(port))
    return command


def plain_side(frames: Path):
    def command(port: int) -> tuple[list[str], dict | None]:
        return [sys.executable, "-c", PLAIN, str(frames), str(port)], None
    return command


def arrivals(path: Path, lines: int, began: float) -> tuple[float, float]:
    """Seconds from `began` until `path` first holds a message and until it
    holds `lines` of them (counted as it grows); inf on timeout."""
    seen, offset, first = 0, 0, float("inf")
    while time.monotonic() - began < ARRIVAL_TIMEOUT:
        if path.exists():
            with path.open("rb") as file:
                file.seek(offset)
                data = file.read()
            offset += len(data)
            seen += data.count(b"\n")
            if seen and first == float("inf"):
                first = time.monotonic() - began
            if seen >= lines:
                return first, time.monotonic() - began
        time.sleep(POLL)
    return first, float("inf")


def thread_cpu(pid: int) -> float:
    """CPU seconds the scheduler gave all threads of `pid` (schedstat: exact)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError):
            pass
    return total / 1e9


def measure(command, lines: int, folder: Path) -> Run:
    """One whole command into a fresh rsyslog."""
    with Rsyslog() as server:
        server.start()
        argv, env = command(server.tcp_port)
        errors = folder / "stderr"
        with errors.open("wb") as stderr:
            began = time.monotonic()
            process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
            first, last = arrivals(server.output, lines, began)
            if last == float("inf"):
                process.kill()
                raise SystemExit(f"{argv[0]}: not all {lines:,} messages reached rsyslog within {ARRIVAL_TIMEOUT:.0f} s")
            rsyslog_cpu = thread_cpu(server.process.pid)
            _, status, usage = os.wait4(process.pid, 0)  # its rusage: all its processes' CPU
            process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"{argv[0]} exited {process.returncode}: {errors.read_text()[-500:]}")
    return Run(lines / (last - first), lines / last, usage.ru_utime + usage.ru_stime, rsyslog_cpu)


def captured(lines: int, folder: Path) -> Path:
    """logstorm's N messages as rsyslog wrote them (one a line, newline-terminated)."""
    with Rsyslog() as server:
        server.start()
        argv, _ = logstorm_side(lines, "octet-counting", 1)(server.tcp_port)
        subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
        arrivals(server.output, lines, time.monotonic())
        path = folder / "messages"
        path.write_bytes(server.output.read_bytes())
    return path


def load() -> str:
    return ", ".join(f"{figure:.2f}" for figure in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--framing", choices=(*FRAMINGS, "both"), default="both")
    parser.add_argument("--generators", type=int, default=1, help="logstorm's generator processes (still one connection)")
    args = parser.parse_args()
    framings = FRAMINGS if args.framing == "both" else (args.framing,)
    print(f"load average at the start: {load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="logstorm-syslog-bench-") as name:
        folder = Path(name)
        root = unpack(folder)
        data = captured(args.lines, folder).read_bytes()
        lines_file = folder / "lines"
        lines_file.write_bytes(b"".join(strip_envelope(line, "rfc5424") + b"\n" for line in data.splitlines()))
        size = round(len(data) / data.count(b"\n")) - 1
        print(f"{args.lines:,} RFC 5424 messages of ~{size} B, one TCP connection into a fresh rsyslog each; "
              f"best of {args.repeat}\n")
        print("| framing | sender | stream msg/s | median | command msg/s | sender CPU s | rsyslog CPU s | stream runs |")
        print("|---|---|---|---|---|---|---|---|")
        ratios = {}
        for framing in framings:
            frames = folder / f"frames-{framing}"
            frames.write_bytes(framed(data, framing))
            sides = {f"loggen -P{' -F' if framing == 'lf' else ''}": loggen_side(root, args.lines, size, framing),
                     "plain socket loop": plain_side(frames),
                     f"logstorm run -g {args.generators}": logstorm_side(args.lines, framing, args.generators),
                     "logstorm stream FILE": stream_side(lines_file, framing)}
            runs: dict[str, list[Run]] = {name: [] for name in sides}
            for _ in range(args.repeat):
                for name, command in sides.items():
                    runs[name].append(measure(command, args.lines, folder))
            for name, taken in runs.items():
                best = max(taken, key=lambda run: run.stream)
                print(f"| {framing} | {name} | {best.stream:,.0f} | {statistics.median(r.stream for r in taken):,.0f} | "
                      f"{max(r.command for r in taken):,.0f} | "
                      f"{best.sender_cpu:.2f} | {best.rsyslog_cpu:.2f} | {', '.join(f'{r.stream:,.0f}' for r in taken)} |",
                      flush=True)
            for figure, of in (("best", max), ("median", statistics.median)):
                loggen_rate, plain_rate, *ours = (of(run.stream for run in taken) for taken in runs.values())
                ratios[framing, figure] = [rate / max(loggen_rate, plain_rate) for rate in ours]
    print()
    for (framing, figure), (run, stream) in ratios.items():
        print(f"{framing}, {figure} stream rates: over the faster of loggen and the plain socket loop, "
              f"logstorm run {run:.2f}x, logstorm stream FILE {stream:.2f}x")
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()

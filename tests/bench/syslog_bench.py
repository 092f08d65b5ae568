"""Syslog over TCP side by side: logstorm's syslog sink against syslog-ng's
loggen, into the same rsyslog, with the same framing, from one run of this
script.

    python tests/bench/syslog_bench.py [--lines 500000] [--repeat 3]

Both send RFC 5424 messages with octet-counting framing (loggen -P; logstorm
--envelope rfc5424) of about the same size (loggen -s is set to the mean
size of logstorm's messages) over one TCP connection into a FRESH rsyslog
(tests' own config: imtcp, omfile). A rate is N over the time from the
command's launch (start-up included) until rsyslog's file holds all N
messages: a side counts only if every message arrived. Each figure is the
best of --repeat runs; the ratio is logstorm over loggen.

loggen comes from Debian's syslog-ng-core, unpacked rather than installed
(it conflicts with rsyslog): harness/servers/syslog_ng.py.

Not a pytest test: it wants the machine to itself.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from harness.servers.syslog_ng import loggen, unpack  # noqa: E402
from harness.servers.rsyslog import Rsyslog  # noqa: E402

SEED = "42"
ARRIVAL_TIMEOUT = 300.0
POLL = 0.01


def logstorm_side(lines: int, framing: str = "octet-counting", generators: int = 1):
    def command(port: int) -> tuple[list[str], dict | None]:
        return [sys.executable, "-m", "harness", "run", "--lines", str(lines), "--seed", SEED, "-q", "--sink", "syslog",
                "--target", f"tcp://127.0.0.1:{port}", "--envelope", "rfc5424", "--framing", framing,
                "--generators", str(generators)], None
    return command


def loggen_side(root: Path, lines: int, size: int, framing: str):
    unframed = ["-F"] if framing == "lf" else []  # -P frames by octet counting unless -F
    def command(port: int) -> tuple[list[str], dict | None]:
        # -I: loggen stops after 10 s by default, however many it was asked to send
        return loggen(root, "-i", "-S", "-P", *unframed, "-Q", "-r", "100000000", "-n", str(lines), "-I", "3600",
                      "-s", str(size), "127.0.0.1", str(port))
    return command


def mean_message_size(lines: int) -> int:
    """Mean bytes of logstorm's RFC 5424 messages (header + apache line), for loggen -s."""
    with Rsyslog() as server:
        server.start()
        subprocess.run(logstorm_side(min(lines, 20000))(server.tcp_port)[0], cwd=ROOT, check=True, capture_output=True)
        wait_for(server.output, min(lines, 20000), time.monotonic())
        data = server.output.read_bytes()
    return round(len(data) / data.count(b"\n")) - 1


def wait_for(path: Path, lines: int, began: float) -> float:
    """Seconds from `began` until `path` holds `lines` lines (counted as it grows); inf on timeout."""
    seen, offset = 0, 0
    while time.monotonic() - began < ARRIVAL_TIMEOUT:
        if path.exists():
            with path.open("rb") as file:
                file.seek(offset)
                data = file.read()
            offset += len(data)
            seen += data.count(b"\n")
            if seen >= lines:
                return time.monotonic() - began
        time.sleep(POLL)
    return float("inf")


def measure(command, lines: int) -> float:
    """Messages/s of one whole command into a fresh rsyslog, 0 if not all arrived."""
    with Rsyslog() as server:
        server.start()
        argv, env = command(server.tcp_port)
        began = time.monotonic()
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = wait_for(server.output, lines, began)
        if seconds == float("inf"):
            raise SystemExit(f"{argv[0]}: not all {lines:,} messages reached rsyslog within {ARRIVAL_TIMEOUT:.0f} s")
        _, stderr = process.communicate(timeout=ARRIVAL_TIMEOUT)
        if process.returncode != 0:
            raise SystemExit(f"{argv[0]} exited {process.returncode}: {stderr.decode()[-500:]}")
    return lines / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--framing", choices=("octet-counting", "lf"), default="octet-counting")
    parser.add_argument("--generators", type=int, default=1, help="logstorm's generator processes (still one connection)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="logstorm-loggen-") as folder:
        root = unpack(Path(folder))
        size = mean_message_size(args.lines)
        sides = {"loggen -P (syslog-ng-core)": loggen_side(root, args.lines, size, args.framing),
                 f"logstorm run --sink syslog -g {args.generators}": logstorm_side(args.lines, args.framing, args.generators)}
        best = {}
        for name, command in sides.items():
            rates = [measure(command, args.lines) for _ in range(args.repeat)]
            best[name] = max(rates)
            print(f"{name:30} {best[name]:>10,.0f} msg/s  (runs: {', '.join(f'{r:,.0f}' for r in rates)})", flush=True)
    loggen_rate, logstorm_rate = best.values()
    print(f"{args.lines:,} messages of ~{size} B, TCP {args.framing} into rsyslog; "
          f"logstorm / loggen = {logstorm_rate / loggen_rate:.2f}x")


if __name__ == "__main__":
    main()

"""syslog-ng and its load generator loggen, unpacked from Debian's packages.

syslog-ng-core conflicts with rsyslog (installing one removes the other), so
it is downloaded and unpacked, not installed: `apt-get download` of it and
of the libraries Debian's rsyslog does not bring along (libivykis0, libnet1,
libpcre3), `dpkg-deb -x` of each into one folder, and the binaries run from
there with SYSLOGNG_PREFIX and LD_LIBRARY_PATH pointing into it.

    root = unpack(folder)                         # once; a folder that has it is reused
    argv, env = loggen(root, "-P", "-r", "1000000", "-I", "3600", "-n", "100000", "127.0.0.1", "5514")
    with SyslogNg(root).start() as server:        # network() TCP source, file destination
        send_to(server.tcp_port); server.output

loggen: always pass -r (its default rate is a few thousand a second) and -I
(it stops after 10 s by default, however many messages it was asked for).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from harness.errors import UserError
from harness.servers.shipper import Shipper

PACKAGES = ("syslog-ng-core", "libivykis0", "libnet1", "libpcre3")
TIMEOUT = 300
# syslog-ng's file destination: each message's MSG part, one a line (its
# ${RAWMSG} of octet-counted input is the raw stream, not one message).
MESSAGE = "${MSG}\\n"


def unpack(folder: Path) -> Path:
    """The root of the unpacked packages in `folder`."""
    root = folder / "root"
    if (root / "usr" / "sbin" / "syslog-ng").exists():
        return root
    folder.mkdir(parents=True, exist_ok=True)
    _run(["apt-get", "download", *PACKAGES], folder)
    for package in PACKAGES:
        found = sorted(folder.glob(f"{package}_*.deb"))
        if not found:
            raise UserError(f"apt-get download {package} left no package in {folder}")
        _run(["dpkg-deb", "-x", str(found[-1]), str(root)], folder)
    return root


def _run(argv: list[str], folder: Path) -> None:
    try:
        done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=TIMEOUT)
    except FileNotFoundError:
        raise UserError(f"{argv[0]} is not installed: syslog-ng is unpacked from Debian's packages") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"status {done.returncode}"])[-1]
        raise UserError(f"{' '.join(argv)} failed: {reason}")


def environment(root: Path) -> dict[str, str]:
    libraries = [root / "usr" / "lib" / "syslog-ng", root / "usr" / "lib" / "x86_64-linux-gnu", root / "lib" / "x86_64-linux-gnu"]
    return {**os.environ, "SYSLOGNG_PREFIX": str(root / "usr"), "LD_LIBRARY_PATH": ":".join(map(str, libraries))}


def loggen(root: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run the unpacked loggen."""
    return [str(root / "usr" / "bin" / "loggen"), *args], environment(root)


class SyslogNg(Shipper):
    """A TCP source of RFC 5424 messages into a file. Its framing is fixed:
    syslog() takes octet counting only (an LF-framed sender is cut off),
    network(flags(syslog-protocol)) LF only (it reads octet-counted input as
    one long line)."""

    name = "syslog-ng"

    def __init__(self, root: Path, framing: str = "octet-counting", template: str = MESSAGE) -> None:
        super().__init__()
        self.root, self.framing, self.template = root, framing, template

    def config(self) -> str:
        where = f'ip("127.0.0.1") port({self.tcp_port}) transport("tcp") max-connections(1000)'
        source = f"syslog({where})" if self.framing == "octet-counting" else f"network({where} flags(syslog-protocol))"
        return "\n".join([
            "@version: 3.38",
            "options { keep-hostname(yes); stats-freq(0); };",
            f"source s_net {{ {source}; }};",
            f'destination d_file {{ file("{self.output}" template("{self.template}")); }};',
            "log { source(s_net); destination(d_file); flags(flow-control); };", ""])

    def argv(self) -> list[str]:
        return [str(self.root / "usr" / "sbin" / "syslog-ng"), "-F", "-f", str(self.folder / "shipper.conf"),
                f"--module-path={self.root / 'usr' / 'lib' / 'syslog-ng' / '3.38'}", "-p", str(self.folder / "pid"),
                "-R", str(self.folder / "persist"), "-c", str(self.folder / "ctl")]

    def env(self) -> dict[str, str]:
        return environment(self.root)

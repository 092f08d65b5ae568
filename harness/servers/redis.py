"""A local redis-server (Debian's package) for tests and benchmarks: no
persistence (nothing saved, no append-only file), optionally with a password.

    with RedisServer(password="s3cret") as server:
        run_against(server.url)       # redis://127.0.0.1:PORT (the password is not in it)
"""

from __future__ import annotations

from pathlib import Path

from harness.servers.daemon import Daemon


class RedisServer(Daemon):
    binary = "redis-server"

    def __init__(self, password: str | None = None) -> None:
        super().__init__()
        self.password = password

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def command(self, port: int, folder: Path) -> list[str]:
        auth = ["--requirepass", self.password] if self.password else []
        return [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(folder), "--daemonize", "no", *auth]


__all__ = ["RedisServer"]

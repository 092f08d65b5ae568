"""A local nats-server (Debian's package) with JetStream, its storage in
the server's temporary folder, optionally with a user and password or a token.

    with NatsServer() as server:
        run_against(server.url)       # nats://127.0.0.1:PORT (no credentials in it)
"""

from __future__ import annotations

from pathlib import Path

from harness.servers.daemon import Daemon


class NatsServer(Daemon):
    binary = "nats-server"

    def __init__(self, user: str | None = None, password: str | None = None, token: str | None = None) -> None:
        super().__init__()
        self.user, self.password, self.token = user, password, token

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def command(self, port: int, folder: Path) -> list[str]:
        auth = ["--user", self.user, "--pass", self.password] if self.user else []
        auth += ["--auth", self.token] if self.token else []
        return [self.binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(folder / "jetstream"),
                "-P", str(folder / "nats.pid"), *auth]


__all__ = ["NatsServer"]

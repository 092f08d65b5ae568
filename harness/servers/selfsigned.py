"""A self-signed certificate authority and a server certificate it signed,
for a local TLS listener (the Apache Kafka broker's SASL_SSL port), made
with the openssl command line in a folder the caller owns and removes.

    ca_pem, server_pem = make_certificates(folder)

The server certificate names 127.0.0.1 and localhost, so clients verify the
host name as they would against a real cluster. Keys are unencrypted PKCS#8:
they never leave the folder, which lives as long as the server.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from harness.errors import UserError

DAYS = "2"  # a test's or a run's certificate: nothing outlives the server
SERVER_NAMES = "subjectAltName=IP:127.0.0.1,DNS:localhost"


def make_certificates(folder: Path) -> tuple[Path, Path]:
    """(CA certificate, server key + certificate chain), both PEM, in `folder`."""
    if shutil.which("openssl") is None:
        raise UserError("openssl is not installed (apt-get install -y openssl): it makes the broker's TLS certificate")
    ca_key, ca_pem = folder / "ca.key", folder / "ca.pem"
    key, request, certificate = folder / "server.key", folder / "server.csr", folder / "server.crt"
    names = folder / "server.ext"
    names.write_text(SERVER_NAMES + "\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_pem, "-days", DAYS,
             "-subj", "/CN=logstorm local CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request, "-subj", "/CN=localhost")
    _openssl("x509", "-req", "-in", request, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial", "-out", certificate,
             "-days", DAYS, "-extfile", names)
    server_pem = folder / "server.pem"
    server_pem.write_text(key.read_text() + certificate.read_text() + ca_pem.read_text())
    return ca_pem, server_pem


def _openssl(*args: str | Path) -> None:
    done = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"status {done.returncode}"])[-1]
        raise UserError(f"openssl {args[0]} failed making the broker's certificate: {reason}")


__all__ = ["make_certificates"]

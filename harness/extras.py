"""The optional extras: which PyPI extra brings the client each integration
imports. Checked by name before anything imports it, so a missing one is one
line that says what to install, not a traceback from deep inside a run."""

from __future__ import annotations

import importlib.util

from harness.errors import UserError

# The client module each extra brings (pyproject.toml [project.optional-dependencies]).
CLIENTS = {"aws": "boto3", "ray": "ray", "redis": "redis", "nats": "nats", "rabbitmq": "pika", "mqtt": "paho"}


def require(extra: str, needed_by: str) -> None:
    """Raise a UserError naming `logstorm[extra]` when its client is not installed."""
    client = CLIENTS[extra]
    if importlib.util.find_spec(client) is None:
        raise UserError(f"{needed_by} needs {client}, which is not installed: pip install 'logstorm[{extra}]'")

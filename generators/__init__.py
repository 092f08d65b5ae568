"""Log formats, found by name. Each lives in its own module and is imported
only when asked for.

The records a line factory is built from (the world, the site, the template)
are NamedTuples rather than frozen dataclasses: every command that generates
creates their classes at its start, and a frozen dataclass costs about five
times as much to create (0.5-1.2 ms each: it compiles six methods). As
dataclasses, these seven took 4 ms of every start."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the base class would load numpy for every caller
    from generators.format import Format

FORMATS = {
    "apache": "generators.apache:ApacheCombined",
    "apache_common": "generators.apache_common:ApacheCommon",
    "nginx": "generators.nginx:Nginx",
    "cloudfront": "generators.cloudfront:CloudFront",
    "cloudflare": "generators.cloudflare:Cloudflare",
    "json": "generators.json_access:JsonAccess",
    "syslog": "generators.syslog:Syslog",
    "alb": "generators.alb:Alb",
}


class UnknownFormat(ValueError):
    pass


def format_class(name: str) -> type[Format]:
    key = name.lower()
    if key not in FORMATS:
        raise UnknownFormat(f"unknown log type {name!r} (known: {', '.join(FORMATS)})")
    module, cls = FORMATS[key].split(":")
    return getattr(importlib.import_module(module), cls)

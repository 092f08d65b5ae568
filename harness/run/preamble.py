"""A format's header lines (CloudFront's #Version and #Fields) for the sinks
that open files or objects: their options carry a `preamble` field, which a
generated run fills from its format. Streams of records (Kafka, ...) have no
such field and get nothing; neither do runs that stream lines read from
files, which carry their own headers if they have any."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from generators import format_class
from generators.spec import LineSpec
from harness.run.spec import SinkTarget


def with_preamble(target: SinkTarget, source: Any) -> SinkTarget:
    if not isinstance(source, LineSpec) or "preamble" not in getattr(target.options, "__dataclass_fields__", {}):
        return target
    return replace(target, options=replace(target.options, preamble=format_class(source.format).preamble))

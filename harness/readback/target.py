"""Where a read-back reads, from its URL, and how long it waits.

    kafka://127.0.0.1:9092/topic     every partition, from the beginning
    file:///var/log/pipeline.log     what is appended after the run starts
    s3://bucket/prefix/              objects that appear under the prefix
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from harness.errors import UserError

SCHEMES = ("kafka", "file", "s3")
DEFAULT_QUIET = 5.0
FIRST_MISSING = 10  # line numbers of missing lines kept for the report


@dataclass(frozen=True)
class ReadBack:
    url: str
    run: str  # the run id in the tags (generators/tag.py)
    quiet: float = DEFAULT_QUIET  # after sending, stop when nothing new arrived for this long

    @property
    def scheme(self) -> str:
        return self.url.partition("://")[0]

    @property
    def where(self) -> tuple[str, str]:
        """(broker, topic), (path, "") or (bucket, prefix)."""
        parts = urlsplit(self.url)
        if self.scheme == "file":
            return parts.path, ""
        return parts.netloc, parts.path.lstrip("/")


def line_identity(format: str, url: str | None, quiet: float | None = None) -> dict:
    """The RunSpec fields of --tag (or a profile's [read_back]): a Tagger
    with a new run id, and the ReadBack that looks for it (None without a URL)."""
    from generators.tag import Tagger, new_run_tag

    run = new_run_tag()
    return {"tag": Tagger(format, run), "read_back": parse(url, run, quiet or DEFAULT_QUIET) if url else None}


def parse(url: str, run: str, quiet: float = DEFAULT_QUIET) -> ReadBack:
    """A ReadBack, or UserError naming what is wrong with the URL."""
    scheme, sep, _ = url.partition("://")
    read_back = ReadBack(url, run, quiet)
    if not sep or scheme not in SCHEMES:
        raise UserError(f"--read-back {url}: expected kafka://BROKER/TOPIC, file://PATH or s3://BUCKET/PREFIX")
    first, second = read_back.where
    if not first or (scheme == "kafka" and not second):
        raise UserError(f"--read-back {url}: expected kafka://BROKER/TOPIC, file://PATH or s3://BUCKET/PREFIX")
    return read_back

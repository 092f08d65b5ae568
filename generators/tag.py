"""Line identity: a run id and the run-wide line number put into each line,
in a place its format already has, so that a reader at the far end of a
pipeline can tell which line arrived (and when it was meant to be sent: the
pacer's time of line n) while the line stays valid for its parser.

    token:  ls-<run id, 8 hex digits>-<line number>      ls-1a2b3c4d-41

    apache, apache_common, nginx, alb   a query parameter of the request: GET /a?lsid=ls-1a2b3c4d-41
    cloudfront                          the cs-uri-query field: lsid=ls-1a2b3c4d-41
    cloudflare, json                    a first key: {"logstorm_id":"ls-1a2b3c4d-41",...
    syslog                              an SD element: [logstorm@32473 id="ls-1a2b3c4d-41"]

A corrupted line (bad data) whose place is gone gets the token at its end.
Pure functions of bytes: tagging works on rendered batches, so no format
module knows about it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Callable

TOKEN = re.compile(rb"ls-([0-9a-f]{8})-(\d+)")
QUERY = b"lsid="
JSON_KEY = b'{"logstorm_id":"'
SD_ID = b"[logstorm@32473 id=\""
SYSLOG_SD_FIELD = 6  # <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG
CLOUDFRONT_QUERY_FIELD = 11

Placer = Callable[[bytes, bytes], bytes]


def new_run_tag() -> str:
    return os.urandom(4).hex()


def _appended(line: bytes, tag: bytes) -> bytes:
    return line + b" " + tag


def _in_request(line: bytes, tag: bytes) -> bytes:
    """A query parameter on the URL of the first quoted request ("GET /path HTTP/1.1")."""
    method = line.find(b" ", line.find(b'"') + 1)
    end = line.find(b" ", method + 1)
    if line.find(b'"') < 0 or method < 0 or end < 0:
        return _appended(line, tag)
    joint = b"&" if b"?" in line[method + 1:end] else b"?"
    return line[:end] + joint + QUERY + tag + line[end:]


def _in_cloudfront_query(line: bytes, tag: bytes) -> bytes:
    fields = line.split(b"\t")
    if len(fields) <= CLOUDFRONT_QUERY_FIELD:
        return _appended(line, tag)
    query = fields[CLOUDFRONT_QUERY_FIELD]
    fields[CLOUDFRONT_QUERY_FIELD] = QUERY + tag if query == b"-" else query + b"&" + QUERY + tag
    return b"\t".join(fields)


def _first_json_key(line: bytes, tag: bytes) -> bytes:
    if not line.startswith(b"{"):
        return _appended(line, tag)
    return JSON_KEY + tag + b'",' + line[1:]


def _sd_element(line: bytes, tag: bytes) -> bytes:
    fields = line.split(b" ", SYSLOG_SD_FIELD + 1)
    if len(fields) <= SYSLOG_SD_FIELD or not fields[0].startswith(b"<"):
        return _appended(line, tag)
    element = SD_ID + tag + b'"]'
    sd = fields[SYSLOG_SD_FIELD]
    fields[SYSLOG_SD_FIELD] = element if sd == b"-" else element + sd
    return b" ".join(fields)


PLACES: dict[str, Placer] = {
    "apache": _in_request, "apache_common": _in_request, "nginx": _in_request, "alb": _in_request,
    "cloudfront": _in_cloudfront_query, "cloudflare": _first_json_key, "json": _first_json_key, "syslog": _sd_element,
}


@dataclass(frozen=True)
class Tagger:
    """Tags the lines of rendered batches: picklable, for every generator."""

    format: str
    run: str  # 8 hex digits

    def __call__(self, data: bytes, first_line: int) -> bytes:
        place = PLACES.get(self.format, _appended)
        run = self.run.encode()
        lines = data[:-1].split(b"\n")
        return b"\n".join([place(line, b"ls-%s-%d" % (run, first_line + i)) for i, line in enumerate(lines)]) + b"\n"


@dataclass
class Found:
    """The tags in a chunk of whole lines: line numbers of `run`, and the rest."""

    lines: list[int]
    other_runs: int  # lines tagged by another run (an earlier run into the same topic or file)
    untagged: int  # lines with no tag at all (a shipper rewrote them)


def find(chunk: bytes, run: str, lines: int | None = None) -> Found:
    """Tags in `chunk`, which holds `lines` lines (counted if not given)."""
    total = chunk.count(b"\n") if lines is None else lines
    ours, others = [], 0
    wanted = run.encode()
    for match in TOKEN.finditer(chunk):
        if match.group(1) == wanted:
            ours.append(int(match.group(2)))
        else:
            others += 1
    return Found(ours, others, max(0, total - len(ours) - others))

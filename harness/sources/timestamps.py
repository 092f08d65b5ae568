"""The time a log line happened, read from its text, and the same line with
another time written in its place (`stream --replay --retime`).

Understood: the Common Log Format time of Apache and nginx
(`[10/Oct/2000:13:55:36 -0700]`, real servers' included), ISO 8601 / RFC 3339
times (JSON, syslog, ALB, Cloudflare: `2026-01-01T00:00:00.123Z`, with or
without a fraction and an offset) and CloudFront's `date<TAB>time` (UTC).
The first time in the line counts (ALB's request_creation_time comes after
its time). Seconds are converted once and remembered: the lines of one
second share the work.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS = {m.encode(): i for i, m in enumerate(MONTH_NAMES, 1)}
CLF = re.compile(rb"\[(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\]")
ISO = re.compile(rb"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?")
CLOUDFRONT = re.compile(rb"^(\d{4})-(\d{2})-(\d{2})\t(\d{2}):(\d{2}):(\d{2})\t")


@dataclass(frozen=True)
class Stamp:
    time: float  # seconds since the epoch
    start: int  # where its text is in the line
    end: int
    style: str  # "clf", "iso" or "cloudfront": how to write another time there
    offset: int  # the zone's offset, seconds east of UTC
    digits: int  # fraction digits (iso)
    zone: bytes  # the zone as written (iso): b"Z", b"+02:00", b"+0200" or b""


class TimeReader:
    def __init__(self) -> None:
        self.seconds: dict[bytes, float] = {}  # a second's text -> its epoch time

    def read(self, line: bytes) -> Stamp | None:
        """The line's time, or None when it has none this reader knows."""
        if (m := CLOUDFRONT.match(line)) is not None:
            return Stamp(self._epoch(m.group(0), m.groups(), 0), m.start(), m.end() - 1, "cloudfront", 0, 0, b"")
        if (m := CLF.search(line)) is not None:
            sign, hours, minutes = m.group(7, 8, 9)
            offset = (1 if sign == b"+" else -1) * (int(hours) * 3600 + int(minutes) * 60)
            day, month, year = m.group(1, 2, 3)
            if month not in MONTHS:
                return None
            fields = (year, MONTHS[month], day) + m.group(4, 5, 6)
            return Stamp(self._epoch(m.group(0), fields, offset), m.start() + 1, m.end() - 1, "clf", offset, 0, b"")
        if (m := ISO.search(line)) is not None:
            zone = m.group(8) or b""
            offset = _zone_offset(zone)
            whole = self._epoch(m.group(0)[:19] + zone, m.groups()[:6], offset)
            fraction = m.group(7) or b""
            return Stamp(whole + (float(fraction) if fraction else 0.0), m.start(), m.end(), "iso", offset,
                         max(len(fraction) - 1, 0), zone)
        return None

    def _epoch(self, key: bytes, fields, offset: int) -> float:
        known = self.seconds.get(key)
        if known is None:
            year, month, day, hour, minute, second = map(int, fields)
            known = calendar.timegm((year, month, day, hour, minute, second)) - offset
            self.seconds[key] = known
        return known


def _zone_offset(zone: bytes) -> int:
    if zone in (b"", b"Z"):
        return 0
    digits = zone[1:].replace(b":", b"")
    return (1 if zone[:1] == b"+" else -1) * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)


def rewrite(line: bytes, stamp: Stamp, time: float) -> bytes:
    """`line` with `time` written where `stamp` was, in the same style and zone."""
    moment = datetime.fromtimestamp(time, timezone(timedelta(seconds=stamp.offset)))
    if stamp.style == "cloudfront":
        text = moment.strftime("%Y-%m-%d\t%H:%M:%S").encode()
    elif stamp.style == "clf":
        # English month names whatever the locale, as servers write them.
        text = f"{moment.day:02d}/{MONTH_NAMES[moment.month - 1]}/{moment:%Y:%H:%M:%S %z}".encode()
    else:
        text = moment.strftime("%Y-%m-%dT%H:%M:%S").encode()
        if stamp.digits:
            text += b".%0*d" % (stamp.digits, int(moment.microsecond * 10 ** stamp.digits // 1_000_000))
        text += stamp.zone
    return line[:stamp.start] + text + line[stamp.end:]

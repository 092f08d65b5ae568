"""Strict parsers, one per log format, written from each format's
specification rather than from the generator's code: a line either parses
into a Record or raises Reject.

Common rules: the line is strict UTF-8 and ends with its only newline; IPs
are dotted IPv4 with octets 0-255 (the simulated site has no IPv6 clients);
methods are the RFC 9110 set plus PATCH, case-sensitive; status codes are
100-599; sizes and times are digits; every field is present, in order.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import unquote


class Reject(ValueError):
    """The line breaks its format."""


@dataclass(frozen=True)
class Record:
    time: float  # epoch seconds
    ip: str
    agent: str | None  # None where the format has no user agent
    method: str
    path: str
    status: int


METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"))
PROTOCOLS = frozenset(("HTTP/1.0", "HTTP/1.1", "HTTP/2.0"))
OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = rf"{OCTET}(?:\.{OCTET}){{3}}"
IPV4_LINE = re.compile(rf"{IPV4}\Z")
CONTROL = {"": re.compile(r"[\x00-\x1f\x7f]"), "\t": re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")}
SECONDS = r"\d+\.\d{3}"


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Reject(what)


def text_of(line: bytes, separators: str = "") -> str:
    """The line without its newline; control characters other than
    `separators` are rejected (logs escape them)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Reject(f"not UTF-8: {e}") from None
    check(text.endswith("\n") and text.count("\n") == 1, "not one newline-terminated line")
    text = text[:-1]
    check(not CONTROL[separators].search(text), "control character")
    return text


def match(pattern: re.Pattern, text: str) -> re.Match:
    found = pattern.fullmatch(text)
    if found is None:
        raise Reject(f"does not match {pattern.pattern[:40]}...")
    return found


def ip(value: str) -> str:
    check(IPV4_LINE.match(value) is not None, f"bad IP {value!r}")
    return value


def method(value: str) -> str:
    check(value in METHODS, f"bad method {value!r}")
    return value


def protocol(value: str, allowed: frozenset[str] = PROTOCOLS) -> str:
    check(value in allowed, f"bad protocol {value!r}")
    return value


def status(value: str | int) -> int:
    if isinstance(value, str):
        check(value.isdigit() and len(value) == 3 and value.isascii(), f"bad status {value!r}")
        value = int(value)
    check(type(value) is int and 100 <= value <= 599, f"bad status {value!r}")
    return value


def count(value: int) -> int:
    check(type(value) is int and value >= 0, f"bad count {value!r}")
    return value


@lru_cache(maxsize=1 << 14)
def timestamp(value: str, layout: str) -> float:
    """A time without fraction (cached: lines of one second share it)."""
    try:
        moment = datetime.strptime(value, layout)
    except ValueError:
        raise Reject(f"bad time {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


ISO_PARTS = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:\d\d)")


def iso_time(value: str, pattern: re.Pattern) -> float:
    """An RFC 3339 time that also matches the format's own `pattern`."""
    check(pattern.fullmatch(value) is not None, f"bad time {value!r}")
    parts = ISO_PARTS.fullmatch(value)
    check(parts is not None, f"bad time {value!r}")
    whole, fraction, offset = parts.groups()
    seconds = timestamp(whole + ("+00:00" if offset == "Z" else offset), "%Y-%m-%dT%H:%M:%S%z")
    return seconds + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def path_of(target: str) -> str:
    check(target.startswith("/"), f"bad target {target!r}")
    return target.split("?", 1)[0]


# --- Apache and nginx: the Common Log Format family ---------------------------------------

CLF_TIME = "%d/%b/%Y:%H:%M:%S %z"
CLF_HEAD = (r'(?P<ip>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] '
            r'"(?P<method>\S+) (?P<target>\S+) (?P<protocol>\S+)" (?P<status>\S+) (?P<size>\S+)')
QUOTED_TAIL = r' "(?P<referer>[^"]*)" "(?P<agent>[^"]*)"'
UPSTREAM = rf'(?:{SECONDS}|-)'
COMMON = re.compile(CLF_HEAD)
COMBINED = re.compile(CLF_HEAD + QUOTED_TAIL)
NGINX = re.compile(CLF_HEAD + QUOTED_TAIL +
                   r' rt=(?P<rt>\S+) uct="(?P<uct>[^"]*)" uht="(?P<uht>[^"]*)" urt="(?P<urt>[^"]*)"')


def clf(found: re.Match, dash_size: bool = True) -> Record:
    size = found["size"]
    check(size.isdigit() or (dash_size and size == "-"), f"bad size {size!r}")
    check(size.isascii(), f"bad size {size!r}")
    protocol(found["protocol"])
    return Record(timestamp(found["time"], CLF_TIME), ip(found["ip"]), found.groupdict().get("agent"),
                  method(found["method"]), path_of(found["target"]), status(found["status"]))


def apache_common(line: bytes) -> Record:
    return clf(match(COMMON, text_of(line)))


def apache(line: bytes) -> Record:
    return clf(match(COMBINED, text_of(line)))


def nginx(line: bytes) -> Record:
    found = match(NGINX, text_of(line))
    check(found["ident"] == "-", "ident is not -")
    check(re.fullmatch(SECONDS, found["rt"]) is not None, "bad request_time")
    upstream = [found[k] for k in ("uct", "uht", "urt")]
    check(all(re.fullmatch(UPSTREAM, u) for u in upstream), "bad upstream time")
    check(len(set(u == "-" for u in upstream)) == 1, "upstream times partly missing")
    return clf(found, dash_size=False)


# --- CloudFront ----------------------------------------------------------------------------

CLOUDFRONT_FIELDS = (
    "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) "
    "cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken "
    "x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status "
    "fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len "
    "sc-range-start sc-range-end").split()
RESULT_TYPES = frozenset(("Hit", "RefreshHit", "Miss", "LimitExceeded", "CapacityExceeded", "Error", "Redirect",
                          "LambdaGeneratedResponse", "FunctionGeneratedResponse"))
CLOUDFRONT_CHECKS: dict[str, str] = {
    "date": r"\d{4}-\d\d-\d\d", "time": r"\d\d:\d\d:\d\d", "x-edge-location": r"[A-Z]{3}\d{1,3}(?:-[A-Z0-9]{1,3})?",
    "sc-bytes": r"\d+", "cs(Host)": r"[a-z0-9.-]+", "cs-uri-stem": r"/\S*", "x-edge-request-id": r"[A-Za-z0-9_=-]{56}",
    "x-host-header": r"[a-z0-9.-]+(?::\d+)?", "cs-protocol": r"https?|wss?", "cs-bytes": r"\d+",
    "time-taken": r"\d+\.\d{3}", "ssl-protocol": r"-|TLSv1(?:\.[123])?|SSLv3", "ssl-cipher": r"[A-Z0-9_-]+",
    "cs-protocol-version": r"HTTP/(?:0\.9|1\.0|1\.1|2\.0|3\.0)", "c-port": r"\d{1,5}", "time-to-first-byte": r"\d+\.\d{3}",
    "x-edge-detailed-result-type": r"[A-Za-z]+", "sc-content-type": r"-|[a-z]+/[A-Za-z0-9.+-]+(?:;\S*)?",
    "sc-content-len": r"-|\d+", "sc-range-start": r"-|\d+", "sc-range-end": r"-|\d+",
}
ANY_FIELD = "[^\t ]+"  # not empty ("-" stands for nothing), no separator, no space
CLOUDFRONT = re.compile("\t".join(f"({CLOUDFRONT_CHECKS.get(name, ANY_FIELD)})" for name in CLOUDFRONT_FIELDS))


def cloudfront(line: bytes) -> Record:
    found = match(CLOUDFRONT, text_of(line, separators="\t"))
    row = dict(zip(CLOUDFRONT_FIELDS, found.groups()))
    for name in ("x-edge-result-type", "x-edge-response-result-type"):
        check(row[name] in RESULT_TYPES, f"bad {name}")
    check(0 < int(row["c-port"]) <= 65535, "bad port")
    return Record(timestamp(f"{row['date']} {row['time']}", "%Y-%m-%d %H:%M:%S"), ip(row["c-ip"]),
                  unquote(row["cs(User-Agent)"]), method(row["cs-method"]), row["cs-uri-stem"], status(row["sc-status"]))


# --- AWS ALB ---------------------------------------------------------------------------------

ALB_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
ALB_TIME_LINE = re.compile(ALB_TIME)
ALB_SECONDS = r"-1|\d+\.\d+"
ALB = re.compile(
    rf'(?P<type>https?|h2|grpcs|wss?) (?P<time>{ALB_TIME}) (?P<elb>\S+) (?P<client>[^\s:]+):(?P<port>\d+) '
    rf'(?P<target>[^\s:]+:\d+|-) (?:{ALB_SECONDS}) (?:{ALB_SECONDS}) (?:{ALB_SECONDS}) (?P<status>\S+) (?:\d{{3}}|-) '
    r'\d+ \d+ "(?P<method>\S+) (?P<url>\S+) (?P<protocol>\S+)" "(?P<agent>[^"]*)" (?:\S+) (?:\S+) (?:arn:\S+|-) '
    r'"(?:Root=1-[0-9a-f]{8}-[0-9a-f]{24}|-)" "[^"]*" "[^"]*" (?:-1|\d+) '
    rf'(?P<creation>{ALB_TIME}) "[^"]*" "[^"]*" "[^"]*" "[^"]*" "[^"]*" "[^"]*" "[^"]*" (?:TID_[0-9a-f]{{32}}|-)')
ALB_URL = re.compile(r"https?://[^/\s]+(?P<path>/\S*)")


def alb(line: bytes) -> Record:
    found = match(ALB, text_of(line))
    check(0 < int(found["port"]) <= 65535, "bad port")
    if found["target"] != "-":
        ip(found["target"].rsplit(":", 1)[0])
    url = ALB_URL.fullmatch(found["url"])
    check(url is not None, "bad url")
    protocol(found["protocol"])
    iso_time(found["creation"], ALB_TIME_LINE)
    return Record(iso_time(found["time"], ALB_TIME_LINE), ip(found["client"]), found["agent"],
                  method(found["method"]), path_of(url["path"]), status(found["status"]))


# --- Syslog (RFC 5424) -------------------------------------------------------------------------

SYSLOG_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)")
SD_NAME = r'[^= \]"\x00-\x20\x7f-\uffff]{1,32}'
SD_VALUE = r'[^"\\\]]*(?:\\.[^"\\\]]*)*'  # any text, '"', '\\' and ']' escaped
SD_PARAM = re.compile(rf'({SD_NAME})="({SD_VALUE})"')
SYSLOG = re.compile(
    r"<(?P<pri>\d{1,3})>1 (?P<time>\S+) (?P<host>[!-~]{1,255}) (?P<app>[!-~]{1,48}) (?P<procid>[!-~]{1,128}) "
    rf'(?P<msgid>[!-~]{{1,32}}) \[(?P<sdid>{SD_NAME})(?P<params>(?: {SD_NAME}="{SD_VALUE}")*)\]'
    r"(?: (?P<msg>.*))?")
SYSLOG_PARAMS = ("ip", "ua", "referer", "duration", "status", "bytes", "method", "url", "proto")
SYSLOG_MSG = re.compile(r"(?P<method>\S+) (?P<url>\S+) (?P<proto>\S+) (?P<status>\d{3}) (?P<bytes>\d+)")


SD_ESCAPE = re.compile(r'\\(["\\\]])')


def sd_unescape(value: str) -> str:
    return SD_ESCAPE.sub(r"\1", value) if "\\" in value else value


def syslog(line: bytes) -> Record:
    found = match(SYSLOG, text_of(line))
    check(int(found["pri"]) <= 191 and (found["pri"] == "0" or not found["pri"].startswith("0")), "bad PRI")
    check(found["sdid"] == "access@32473", "unknown SD-ID")
    pairs = SD_PARAM.findall(found["params"])
    check(tuple(k for k, _ in pairs) == SYSLOG_PARAMS, "SD params missing or out of order")
    sd = {k: sd_unescape(v) for k, v in pairs}
    check(re.fullmatch(SECONDS, sd["duration"]) is not None, "bad duration")
    check(sd["bytes"].isdigit() and sd["bytes"].isascii(), "bad bytes")
    code = status(sd["status"])
    check(int(found["pri"]) % 8 == (3 if code >= 500 else 4 if code >= 400 else 6), "severity does not fit status")
    # The message restates the event; a cut or a changed field shows as a mismatch.
    msg = match(SYSLOG_MSG, found["msg"] or "")
    check(all(msg[k] == sd[k] for k in ("method", "proto", "status", "bytes")), "MSG disagrees with SD")
    return Record(iso_time(found["time"], SYSLOG_TIME), ip(sd["ip"]), sd["ua"], method(sd["method"]),
                  path_of(sd["url"]), code)


# --- JSON formats --------------------------------------------------------------------------------

def json_object(line: bytes) -> dict:
    text = text_of(line)

    def no_constant(name: str) -> None:
        raise Reject(f"JSON constant {name}")

    try:
        value = json.loads(text, parse_constant=no_constant)
    except json.JSONDecodeError as e:
        raise Reject(f"bad JSON: {e}") from None
    check(type(value) is dict, "not an object")
    return value


def keys(obj: object, required: set[str], optional: set[str] = frozenset()) -> dict:
    check(type(obj) is dict, "not an object")
    present = set(obj)
    check(required <= present <= required | optional, f"keys {sorted(present ^ required)}")
    return obj


def string(value: object) -> str:
    check(type(value) is str, f"not a string: {value!r}")
    return value


ECS_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:Z|[+-]\d\d:\d\d)")


def json_access(line: bytes) -> Record:
    doc = keys(json_object(line), {"@timestamp", "ecs", "source", "user_agent", "url", "http", "event"})
    check(keys(doc["ecs"], {"version"})["version"] == "8.11.0", "bad ecs.version")
    source = keys(doc["source"], {"ip"})
    agent = string(keys(doc["user_agent"], {"original"})["original"])
    url = keys(doc["url"], {"original", "path", "domain"}, {"query"})
    path = string(url["path"])
    check(path.startswith("/") and string(url["original"]).startswith(path), "bad url")
    string(url.get("query", ""))
    string(url["domain"])
    http = keys(doc["http"], {"version", "request", "response"})
    protocol("HTTP/" + string(http["version"]))
    request = keys(http["request"], {"method"}, {"referrer"})
    string(request.get("referrer", ""))
    response = keys(http["response"], {"status_code", "body"})
    count(keys(response["body"], {"bytes"})["bytes"])
    event = keys(doc["event"], {"kind", "category", "type", "duration"})
    check(event["kind"] == "event" and event["category"] == ["web"] and event["type"] == ["access"], "bad event")
    count(event["duration"])
    return Record(iso_time(string(doc["@timestamp"]), ECS_TIME), ip(string(source["ip"])), agent,
                  method(string(request["method"])), path, status(response["status_code"]))


CLOUDFLARE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
CLOUDFLARE_STRINGS = {
    "ClientCountry": r"[a-z]{2}|[A-Z]{2}", "ClientDeviceType": r"desktop|mobile|tablet|unknown",
    "ClientSSLProtocol": r"none|TLSv1(?:\.[0-3])?|SSLv3", "EdgeColoCode": r"[A-Z]{3}", "ClientRequestHost": r"[a-z0-9.-]+",
    "ClientRequestURI": r"/\S*", "ClientRequestPath": r"/\S*", "ClientRequestProtocol": r"HTTP/(?:1\.0|1\.1|2|3)",
    "EdgeResponseContentType": r"[a-z]+/[A-Za-z0-9.+-]+(?:;.*)?|", "RayID": r"[0-9a-f]{16}",
    "CacheCacheStatus": r"miss|expired|updating|stale|hit|ignored|bypass|revalidated|dynamic|stream_hit|deferred|unknown",
    "ClientRequestUserAgent": r"[^\x00-\x1f]*", "ClientRequestReferer": r"[^\x00-\x1f]*",
}
CLOUDFLARE_STRING_PATTERNS = {k: re.compile(v) for k, v in CLOUDFLARE_STRINGS.items()}
CLOUDFLARE_KEYS = set(CLOUDFLARE_STRINGS) | {
    "EdgeStartTimestamp", "EdgeEndTimestamp", "ClientIP", "ClientRequestMethod", "EdgeResponseStatus",
    "EdgeResponseBytes", "OriginResponseStatus", "EdgeTimeToFirstByteMs", "ClientSrcPort"}


def cloudflare(line: bytes) -> Record:
    doc = keys(json_object(line), CLOUDFLARE_KEYS)
    for name, pattern in CLOUDFLARE_STRING_PATTERNS.items():
        check(pattern.fullmatch(string(doc[name])) is not None, f"bad {name} {doc[name]!r}")
    start = iso_time(string(doc["EdgeStartTimestamp"]), CLOUDFLARE_TIME)
    check(iso_time(string(doc["EdgeEndTimestamp"]), CLOUDFLARE_TIME) >= start, "ends before it starts")
    count(doc["EdgeResponseBytes"])
    count(doc["EdgeTimeToFirstByteMs"])
    check(doc["OriginResponseStatus"] == 0 or status(doc["OriginResponseStatus"]) > 0, "bad origin status")
    check(count(doc["ClientSrcPort"]) <= 65535, "bad port")
    return Record(start, ip(string(doc["ClientIP"])), doc["ClientRequestUserAgent"],
                  method(string(doc["ClientRequestMethod"])), doc["ClientRequestPath"], status(doc["EdgeResponseStatus"]))


PARSERS: dict[str, Callable[[bytes], Record]] = {
    "apache": apache,
    "apache_common": apache_common,
    "nginx": nginx,
    "cloudfront": cloudfront,
    "cloudflare": cloudflare,
    "json": json_access,
    "syslog": syslog,
    "alb": alb,
}

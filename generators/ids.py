"""Identifiers unique per request (CloudFront's x-edge-request-id,
Cloudflare's RayID, the ALB trace id), without encoding anything per line.

Line n of a run gets the 64-bit number mix(n ^ key(seed)), where mix is
SplitMix64's finalizer: a bijection, so different lines get different
numbers (in any process: it depends on n alone). Its four 16-bit chunks
are four entities, "unique0" .. "unique3", each picking from a pool of
65,536 pre-encoded pieces whose entry i starts with an encoding of i; a
line's id is its four pieces side by side, distinct because the numbers
are. The rest of each piece is random filler, so ids look like the real
ones (hex, or base64 ending in "==").
"""

from __future__ import annotations

import numpy as np

CHUNKS = 4
ENTITIES = tuple(f"unique{k}" for k in range(CHUNKS))
URLSAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
HEX = b"0123456789abcdef"


def unique_chunks(seed: int, first_line: int, n: int) -> dict[str, np.ndarray]:
    """Per entity "unique0".."unique3": the chunk of each line's number."""
    x = np.arange(first_line, first_line + n, dtype=np.uint64) ^ np.uint64(_key(seed))
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return {name: ((x >> np.uint64(16 * k)) & np.uint64(0xFFFF)).astype(np.int64) for k, name in enumerate(ENTITIES)}


def _key(seed: int) -> int:
    return (seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & (2**64 - 1)


def hex_pieces(rng: np.random.Generator, digits: int) -> list[bytes]:
    """Entry i: i in 4 hex digits, then digits-4 random ones."""
    filler = _random_text(rng, HEX, digits - 4)
    return [b"%04x" % i + tail for i, tail in enumerate(filler)]


def base64_pieces(rng: np.random.Generator, width: int, end: bytes = b"") -> list[bytes]:
    """Entry i: i (with 2 random bits) in 3 URL-safe base64 characters, then
    random ones up to `width` characters, the last of them `end`."""
    low = rng.integers(0, 4, 65536).tolist()
    filler = _random_text(rng, URLSAFE, width - 3 - len(end))
    out = []
    for i, (bits, tail) in enumerate(zip(low, filler)):
        v = i << 2 | bits
        out.append(bytes((URLSAFE[v >> 12], URLSAFE[v >> 6 & 63], URLSAFE[v & 63])) + tail + end)
    return out


def _random_text(rng: np.random.Generator, alphabet: bytes, width: int) -> list[bytes]:
    table = np.frombuffer(alphabet, np.uint8)
    rows = table[rng.integers(0, len(alphabet), (65536, width))]
    return rows.view(f"S{width}").ravel().tolist() if width else [b""] * 65536


def pools(name: str, pieces: list[list[bytes]]) -> dict:
    """The pool entries of fields name0..name3, one per entity."""
    return {f"{name}{k}": (entity, pieces[k]) for k, entity in enumerate(ENTITIES)}


def fields(name: str) -> str:
    """The template text of an id: its four fields side by side."""
    return "".join(f"{{{name}{k}}}" for k in range(CHUNKS))

"""The bytes of a few batches, pinned: the factory's speed-ups (vectorised
pools, lazy or cached tables) must not change a single output byte. The
hashes are of the code before those speed-ups; every format's full output
over three seeds was compared the same way when they were made.

If a change to the data model is meant to change the output, set the new
hashes from `python -m tests.test_golden_lines` and say why in the commit."""

from __future__ import annotations

import hashlib

import pytest

from generators.factory import LineFactory, LineSpec

# (format, spec fields, sha256 of batch 1's first 1,000 lines and its marks)
CASES = [
    ("apache", {"seed": 1},
     "beef25fb2243b532a89646d05a44b36fe991944a80fed788e80c93f2360f849b"),
    ("nginx", {"seed": 5, "baddata": 20.0},
     "379223e1203f2b77db5857e452224d618248297d85272d76ed0ffa8caf607bcc"),
    ("cloudfront", {"seed": 7, "baddata": 20.0},
     "7e5bced7e51f0bec45586500271c4fe286fe6b1579f6fdca58aa63f068b623b4"),
    ("cloudflare", {"seed": 2, "bot_share": 0.3},
     "ac308cd2b242fdb523ef9049b5fb39216b486f7c0b45c6e9451a10ead7699ae1"),
    ("json", {"seed": 0, "bot_share": 0.3, "timezone": "+0200"},
     "7b15c459585a629e0369206f1df8fd9d96d8f369320cffbdd162af06ed780fb3"),
    ("syslog", {"seed": 3, "baddata": 20.0, "timezone": "Europe/Paris"},
     "d9f35f62b6a35243b29e61830545da9b49c8fd9691b0384a1f1465a45d4cb1c8"),
    ("alb", {"seed": 4},
     "e05d6857ec26353ad20bbb71081e71ec19d9d5ec446890e81cf166f761c39e38"),
]


def digest(fmt: str, fields: dict) -> str:
    batch = LineFactory(LineSpec(format=fmt, **fields)).render(1, 1000)
    return hashlib.sha256(batch.data + repr(batch.marks).encode()).hexdigest()


@pytest.mark.parametrize(("fmt", "fields", "expected"), CASES, ids=[case[0] for case in CASES])
def test_batch_bytes_are_pinned(fmt: str, fields: dict, expected: str) -> None:
    assert digest(fmt, fields) == expected


if __name__ == "__main__":
    for fmt, fields, _ in CASES:
        print(f"    ({fmt!r}, {fields!r}, {digest(fmt, fields)!r}),")

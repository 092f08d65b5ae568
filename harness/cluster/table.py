"""A profile's [cluster] table: where `logstorm run PROFILE` places its
shards when the command line does not say (--cluster, --shards win).

    [cluster]
    engine = "ray"               # the only engine
    address = "10.0.0.5:6379"    # default: the Ray cluster this machine belongs to
    shards = 4                   # default: one per node

It says where the run goes, not what it is: it is not part of the
profile's hash, and a shard (--shard K/N) runs where it was placed."""

from __future__ import annotations

import tomllib
from pathlib import Path

from harness.profiles.keys import Key, Where, read_table

KEYS = {"engine": Key("str", "ray"), "address": Key("str", ""), "shards": Key("int", None, 1, 4096)}
ENGINES = ("ray",)


def cluster_of(profile_path: str) -> tuple[str, int | None] | None:
    """(--cluster, --shards) from the profile's [cluster] table; None without
    one. The profile has already been loaded, so the file reads as TOML."""
    text = Path(profile_path).read_text("utf-8")
    raw = tomllib.loads(text).get("cluster")
    if raw is None:
        return None
    where = Where(profile_path, text, {})
    table = read_table(where, ("cluster",), raw, KEYS, "[cluster]", {})
    if table["engine"] not in ENGINES:
        raise where.error(("cluster", "engine"), f"[cluster] engine {table['engine']!r} is not one of {', '.join(ENGINES)}")
    return table["engine"] + (f":{table['address']}" if table["address"] else ""), table["shards"]

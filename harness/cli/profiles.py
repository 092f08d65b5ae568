"""List the named benchmark profiles, or check one and print it resolved.

    logstorm profiles                          each profile in profiles/ with its description
    logstorm profiles NAME|PATH [--set K=V]    check it; print it with every default filled in

`logstorm run NAME` runs one. profiles/README.md documents every key.
"""

from __future__ import annotations

import argparse
import json
from typing import Sequence


EXAMPLES = """\
examples:
  logstorm profiles
  logstorm profiles ci
  logstorm profiles smoke --set load.rate=500
"""

def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    from harness.profiles.overrides import add_set_argument

    parser.add_argument("profile", nargs="?", default=None, metavar="NAME|PATH",
                        help="a profile to check and print (secrets left out)")
    add_set_argument(parser)


def run(args: argparse.Namespace) -> int:
    from harness.profiles.profile import available, load_profile
    from harness.report.results import redact

    if args.profile is None:
        profiles = available()
        width = max((len(name) for name, _ in profiles), default=0)
        for name, description in profiles:
            print(f"{name:{width}}  {description}")
        return 0
    profile = load_profile(args.profile, args.set)
    profile.to_runspec()  # builds every sink's options once more, as a run would
    print(json.dumps(redact(profile.resolved()), indent=2))
    return 0

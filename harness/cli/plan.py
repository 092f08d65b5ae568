"""Print the processes and rings a run would use, without running it.

Takes the same flags as `logstorm run`.
"""

from __future__ import annotations

import argparse

from harness.cli.run import add_arguments, build_spec, sink_names

__all__ = ["add_arguments", "sink_names", "run"]


EXAMPLES = """\
logstorm plan NAME|PATH [--set KEY.PATH=VALUE ...] [--broker HOST:PORT] [--sink NAME]
  plans a profile (a name from `logstorm profiles` or a TOML file), overrides
  as for `logstorm run`.

examples:
  logstorm plan smoke
  logstorm plan ci --set load.generators=1
  logstorm plan --generators 2 --producers 2 --sink null
"""

def run(args: argparse.Namespace) -> int:
    from harness.run.topology import describe, plan

    spec = build_spec(args)
    print(describe(plan(spec), spec))
    return 0

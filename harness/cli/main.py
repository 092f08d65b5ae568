"""Command line: `logstorm COMMAND`, plus the drop-in `generate` and `stream`
names that existing shell pipelines use. Each command is one module under
harness/cli, imported only when it runs, so start-up stays fast."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from typing import NoReturn, Sequence

from harness import __version__
from harness.errors import UserError

# Before anything imports numpy: logstorm does no linear algebra, and
# OpenBLAS's thread pool would add a thread to every process, which also
# rules out forking the run's children (run/supervisor.py _start_method).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
FALLBACK_COLUMNS = 80

COMMANDS = {
    "generate": "synthesize log lines to stdout or a file",
    "stream": "deliver lines from stdin or files to a sink",
    "run": "generate and deliver in one multiprocess run",
    "plan": "print the processes and rings a run would use",
    "broker": "run a local Kafka broker (embedded, or Apache Kafka) in the foreground",
    "profiles": "list the named benchmark profiles, or check one",
    "compare": "compare two results: throughput and latency, with a verdict per metric",
    "report": "an HTML report of one or more results, with charts",
    "find-rate": "find the highest rate a target sustains within an SLO",
    "merge": "merge the result files of a sharded run into one",
    "baseline": "record a profile's baseline for compare",
    "score": "score a parser under test against a ground-truth file",
}


class Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every add_argument (to check its
        # metavar) and each asks shutil for the terminal's width: importing
        # shutil, with the bz2 and lzma it imports, cost every command 2 ms
        # of start. The same width, asked of the OS directly.
        return self.formatter_class(prog=self.prog, width=terminal_columns() - 2)


def terminal_columns() -> int:
    """shutil.get_terminal_size().columns: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or FALLBACK_COLUMNS


def version_line() -> str:
    """`logstorm 0.1.0`, and from a git checkout the commit it runs."""
    from harness.report.checkout import checkout_commit

    found = checkout_commit()
    if not found:
        return f"logstorm {__version__}"
    return f"logstorm {__version__} (commit {found['commit'][:12]}{', dirty' if found.get('dirty') else ''})"


class _Version(argparse.Action):
    """--version, asking git only when it is given (start-up stays fast)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version (and the commit, from a checkout)")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(version_line())
        parser.exit()


def _module_name(command: str) -> str:
    return f"harness.cli.{command.replace('-', '_')}"


def _module(command: str):
    return importlib.import_module(_module_name(command))


def _run(prog: str, command: str, argv: Sequence[str]) -> int:
    """The command's status; what goes wrong outside it is one line, no traceback."""
    try:
        return _command(prog, command, argv)
    except UserError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return error.status
    except KeyboardInterrupt:
        # Ctrl-C outside a run's own handling (while it loads or checks its
        # sinks): nothing was sent yet, so there is nothing to drain or report.
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`| head`): a normal end, not a crash.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _command(prog: str, command: str, argv: Sequence[str]) -> int:
    from harness.allocator import keep_freed_memory

    keep_freed_memory()
    module = _module(command)
    # Every command's help ends with its EXAMPLES, kept as written.
    parser = Parser(prog=prog, description=module.__doc__.strip().splitlines()[0], epilog=getattr(module, "EXAMPLES", None),
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_Version)
    module.add_arguments(parser, argv)
    return module.run(parser.parse_intermixed_args(argv))


def main(argv: Sequence[str] | None = None) -> NoReturn:
    argv = list(sys.argv[1:] if argv is None else argv)
    known = [c for c in COMMANDS if importlib.util.find_spec(_module_name(c))]
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: logstorm {{{','.join(known)}}} ...\n\nlogstorm {__version__}: a benchmarking harness for log pipelines.\n")
        for name in known:
            print(f"  {name:10} {COMMANDS[name]}")
        print("\n`logstorm COMMAND --help` tells more.")
        sys.exit(0)
    if argv[0] == "--version":
        print(version_line())
        sys.exit(0)
    if argv[0] not in known:
        print(f"logstorm: error: unknown command {argv[0]!r} (commands: {', '.join(known)})", file=sys.stderr)
        sys.exit(2)
    sys.exit(_run(f"logstorm {argv[0]}", argv[0], argv[1:]))


def generate(argv: Sequence[str] | None = None) -> NoReturn:
    sys.exit(_run("generate", "generate", sys.argv[1:] if argv is None else argv))


def stream(argv: Sequence[str] | None = None) -> NoReturn:
    sys.exit(_run("stream", "stream", sys.argv[1:] if argv is None else argv))

"""Shared fixtures live in tests/fixtures/, one module per real part."""

import importlib.util
import signal

# A suite started in the background (`nohup .ci/run &`, some CI runners) inherits
# SIGINT ignored, and so would every command it starts: the Ctrl-C tests would
# find a command that cannot be interrupted. The commands get it as a terminal
# gives it, whatever started the suite.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

pytest_plugins = [name for name in ("tests.fixtures.common", "tests.fixtures.kafka", "tests.fixtures.aws")
                  if importlib.util.find_spec(name)]

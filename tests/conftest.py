"""Shared fixtures live in tests/fixtures/, one module per real part."""

import importlib.util

pytest_plugins = [name for name in ("tests.fixtures.common", "tests.fixtures.kafka", "tests.fixtures.aws")
                  if importlib.util.find_spec(name)]

"""The only package that knows about processes: supervisor, rings, pacing,
metrics and the command line."""

__version__ = "0.1.0"

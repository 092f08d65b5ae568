"""Named benchmark profiles (TOML) read into frozen dataclasses: the keys and
their checks, each sink's table, the command-line overrides (--set and the
run shortcuts), and the run spec they become. Imports run.spec, load/,
generators/ and sinks/ (by name); starts nothing."""

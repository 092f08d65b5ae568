"""A run's processes: the spec (spec.py), the topology planned from it, the
supervisor that starts, watches and stops them, and each process role
(generator, producer, observer, metrics; ordered.py, output.py and
workers.py for `generate` and its -P). The only room that starts processes.
Imports transport/, load/, report/, generators/ and sinks/, never cli/ or
profiles/."""

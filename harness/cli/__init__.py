"""The console scripts (their entry points in scripts.py): main.py dispatches `logstorm COMMAND` (and the drop-in
`generate` and `stream`) to one module per command, each with
`add_arguments(parser)` and `run(args) -> int`. The top of the stack: it may
import anything in harness/, generators/ and sinks/; nothing imports it."""

"""The sink conformance suite: what every sink promises, checked by driving
the real CLI (`logstorm run --sink NAME ...`) as a subprocess against the
real server and reading the counts from the run's result file.

The promises (one test each, in tests/conformance/suite.py):

    every line counted     delivered + failed = generated, all delivered, and
                           the server holds them (when it can be read back)
    slow server            the server stopped (SIGSTOP) for 1.5 s mid-run, then
                           resumed: the run waits (backpressure), exit 0, no loss
    unreachable server     exit 2 within 15 s, one line on stderr, no traceback
    server killed          SIGKILL mid-run: the run ends in bounded time, exit 1,
                           delivered + failed + unsent + in doubt = generated
    credentials            a secret given to the sink never appears on stdout,
                           stderr or in the result file, nor in the
                           unreachable server's error
    Ctrl-C drains          SIGINT mid-run: exit 0, "drained what was in flight",
                           every generated line delivered

How a sink plugs in: a test module defines a subclass of SinkConformance
whose name starts with Test, sets `sink` (the registry name) and overrides
the fixture `target`, which returns a Target for one test:

    from tests.conformance import SinkConformance, Target

    class TestRedisConforms(SinkConformance):      # tests/test_redis.py, in full
        sink = "redis"

        @pytest.fixture
        def target(self, redis_server, request) -> Target:   # a fresh server per test
            key = unique_key(request)
            return Target(flags=("--url", redis_server.url, "--stream", key),
                          env={"REDIS_PASSWORD": redis_server.password},
                          server=lambda run_pid: redis_server.pid,      # the process to stop and kill
                          stored=lambda: stored(redis_server, key),     # lines the server holds now
                          secret=redis_server.password)                 # must never be printed

        @pytest.fixture
        def unreachable(self) -> tuple[str, ...]:   # flags naming a server that is not there
            return ("--url", f"redis://:redis-conformance-secret@127.0.0.1:{free_port()}")

Target fields (see Target in suite.py): `flags` follow `--sink NAME` on the
command line; `env` is added to the run's environment (credentials);
`server(run_pid)` gives the PID of the server process to stop or kill (it
may be a child of the run, as the embedded Kafka broker is), or is None when
the sink has no server (then `no_server` says why); `stored()` counts the
lines the server holds, or is None; `secret` is a credential the run is
given (in flags or env) that must never be printed; `lines` is the size of
the unpaced run (default 20,000) and `rate` the lines/s of the paced ones
(default 20,000: lower it to what the server takes with room to spare, since
a Ctrl-C drain must empty the rings). Run the suite alone with
`python3 -m pytest -q -p no:xdist tests/test_redis.py -k Conforms`.

The server of `target` is killed by one test and stopped by another: give
each test its own server (a function-scoped fixture), unless the sink has none.
A case that makes no sense for a sink is skipped with its reason: a Target
without `server` skips the slow and killed cases, one without `secret` the
credentials case, and `unreachable` skips unless overridden. A subclass may
also skip a single case by overriding it with `pytest.skip("why")`.
"""

from tests.conformance.suite import SinkConformance, Target

__all__ = ["SinkConformance", "Target"]

"""The engine. Rooms by job, each import pointing down this list:

    cli/        console scripts, one module per command (the top: nothing imports it)
    profiles/   reading profiles and their command-line overrides into a run spec
    run/        supervisor, topology, process roles (the only place that starts processes)
    transport/  rings, shared-memory segments, stat slots, turns between processes
    sources/    lines that already exist: stdin, files, S3 (I/O)
    load/       schedules and pacing (pure arithmetic of time)
    report/     result files, compare, histograms, host facts, dashboard
    servers/    local servers a run or a test starts (the embedded Kafka broker)

and the ground, which sinks may import too: errors.py (the user-error type),
options.py (flag types), aws.py (boto3 clients and AWS errors, shared by the S3
source and the S3/Kinesis sinks), allocator.py (glibc malloc's settings for a
command's processes), stops.py (Ctrl-C, SIGTERM and SIGHUP as requests to
stop, for the supervisor, `generate` and the cluster's coordinator)."""

__version__ = "0.1.0"

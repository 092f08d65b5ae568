"""What a run tells afterwards and while it runs: result files, comparisons
of results, the fixed-layout latency histogram, host facts, the live
dashboard and progress lines. Only reads results and metrics; imports only
the ground."""

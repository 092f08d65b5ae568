"""Local servers a run or a test starts (the embedded Kafka-compatible broker
today): each on a free 127.0.0.1 port, in its own session, stopped by its PID.
Imports only the ground."""

from harness.cli.scripts import logstorm

logstorm()

"""Past one machine: a run's shards placed on a Ray cluster, one per node,
each an ordinary `logstorm run --shard K/N` subprocess inside an actor."""

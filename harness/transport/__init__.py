"""How processes of a run share data without copying it through pipes:
shared-memory segments, single-producer/single-consumer rings of batches,
the stat slots each process owns, and turns passed round in a fixed order.
Starts no process; imports only report.histogram and generators.clock."""

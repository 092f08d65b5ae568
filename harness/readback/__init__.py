"""Read-back at the far end of a pipeline: what arrived where the shipper
delivered (a Kafka topic, a file, an S3 prefix), found by the tags that
generators/tag.py put in each line, independent of the sink that sent them."""

"""Kafka plumbing: the intake loop, offset tracking, the producer and the topics hookstream writes."""

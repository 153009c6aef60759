"""``make bench``: hookstream measured on real Kafka against real receivers on loopback."""

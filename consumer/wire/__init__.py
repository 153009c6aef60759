"""Wire formats: domain events (Avro single-object or JSON) and delivery records (Avro)."""

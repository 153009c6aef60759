"""Real servers on loopback for delivery tests: a recording HTTP(S) receiver, TLS material,
an OAuth2 token endpoint and a SOAP service."""

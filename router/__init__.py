"""hookstream: router room."""

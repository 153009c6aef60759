"""hookstream: consumer room."""

"""hookstream: sender room."""

"""hookstream: store room."""

"""hookstream: admin room."""

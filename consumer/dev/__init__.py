"""Development tools: sample events and the demo receiver of `make run`."""

"""CLI commands: classify (being written)."""

"""CLI commands: forecast (being written)."""

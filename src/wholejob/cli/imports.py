"""CLI commands: imports (being written)."""

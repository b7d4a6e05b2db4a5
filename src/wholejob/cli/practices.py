"""CLI commands: practices (being written)."""

"""CLI commands: report (being written)."""

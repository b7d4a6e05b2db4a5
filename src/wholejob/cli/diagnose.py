"""CLI commands: diagnose (being written)."""

"""The deterministic demo team."""

"""wholejob: see how each salesperson spends time and performs across the whole sales job."""

from __future__ import annotations

__version__ = "0.1.0"

"""The deterministic demo team: contract files with behaviour that causes outcomes.

:func:`generate_demo` writes a realistic sales team whose reps follow distinct
behaviour profiles (balanced, avoids prospecting, qualifies badly, ...), plus the
ground truth needed to measure classification and findings against it.
"""

from __future__ import annotations

from wholejob.demo.generator import DEFAULT_END, DemoResult, generate_demo
from wholejob.demo.profiles import PRACTICES, PROFILE_NAMES

__all__ = ["DEFAULT_END", "PRACTICES", "PROFILE_NAMES", "DemoResult", "generate_demo"]

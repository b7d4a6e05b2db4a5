"""Repository-wide pytest hooks: in CI a skipped test fails the run.

Parts of the suite need real components (a browser, Spark). CI must prove they
ran, so when ``WHOLEJOB_REQUIRE_ALL=1`` (set by ``.ci/run``) any skip turns the
session red. Locally a skip is reported as usual.
"""

from __future__ import annotations

import os

import pytest

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("WHOLEJOB_REQUIRE_ALL") == "1" and _skipped:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"WHOLEJOB_REQUIRE_ALL: {len(_skipped)} required test(s) skipped: "
                + ", ".join(_skipped[:10]),
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

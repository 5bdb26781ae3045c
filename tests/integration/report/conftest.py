"""The report tests' fixtures (shared with the browser tests in tests/e2e/report)."""

from tests.integration.report.fixtures import *  # noqa: F403

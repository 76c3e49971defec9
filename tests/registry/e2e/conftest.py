"""Browser fixtures of the e2e suite, shared with the registry's browser tests (this folder sorts last too)."""

from tests.e2e.conftest import browser, page  # noqa: F401

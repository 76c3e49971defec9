from tests.planning.conftest import as_user, http  # noqa: F401  (shared API fixtures)

from tests.inspection.conftest import admin_fetch  # noqa: F401  (raw SQL as the owner, for independent numbers)
from tests.planning.conftest import as_user, http  # noqa: F401  (shared API fixtures)

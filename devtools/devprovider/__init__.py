"""Development OIDC provider speaking Keycloak 26's paths and token layout.

Only for the embedded demo and as a fallback target for SSO contract tests: it reads the
same realm export Keycloak imports, keeps state in memory plus a small data directory, and
must never be reachable from production settings.
"""

from .app import create_dev_provider_app, create_dev_provider_router
from .realm import Realm, RealmFileError, load_realm

__all__ = ["Realm", "RealmFileError", "create_dev_provider_app", "create_dev_provider_router", "load_realm"]

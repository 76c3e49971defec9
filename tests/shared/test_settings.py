from __future__ import annotations

import pytest

from shared.settings import DEV_SECRET_KEY, SettingsError, load_settings

BASE = {
    "SPOTCHECK_DATABASE_URL": "postgresql://app:pw@db/spotcheck",
    "SPOTCHECK_REDIS_URL": "redis://redis:6379/0",
    "SPOTCHECK_OIDC_ISSUER": "https://sso.example.gov.cn/realms/county-130528",
}
PRODUCTION = {**BASE, "SPOTCHECK_SECRET_KEY": "x" * 40, "SPOTCHECK_OIDC_CLIENT_SECRET": "s3cret"}


def test_production_is_the_default_and_needs_secrets() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings(BASE)
    settings = load_settings(PRODUCTION)
    assert settings.is_production and settings.app.secret_key == "x" * 40


def test_production_refuses_the_dev_key_and_the_dev_provider() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings({**PRODUCTION, "SPOTCHECK_SECRET_KEY": DEV_SECRET_KEY})
    with pytest.raises(SettingsError, match="development OIDC provider"):
        load_settings({**PRODUCTION, "SPOTCHECK_OIDC_DEV_PROVIDER": "1"})
    with pytest.raises(SettingsError, match="OIDC_CLIENT_SECRET"):
        load_settings({k: v for k, v in PRODUCTION.items() if k != "SPOTCHECK_OIDC_CLIENT_SECRET"})


def test_dev_mode_has_fixed_not_random_defaults() -> None:
    a = load_settings({**BASE, "SPOTCHECK_MODE": "dev"})
    b = load_settings({**BASE, "SPOTCHECK_MODE": "dev"})
    assert a.app.secret_key == b.app.secret_key == DEV_SECRET_KEY


def test_required_values_are_named() -> None:
    with pytest.raises(SettingsError, match="SPOTCHECK_DATABASE_URL"):
        load_settings({k: v for k, v in PRODUCTION.items() if k != "SPOTCHECK_DATABASE_URL"})
    with pytest.raises(SettingsError, match="SPOTCHECK_MODE"):
        load_settings({**PRODUCTION, "SPOTCHECK_MODE": "staging"})

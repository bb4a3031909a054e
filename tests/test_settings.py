import re

import pytest
from pydantic import ValidationError

from settings import DEV_PII_KEY, DEV_SECRET_KEY, PROJECT_ROOT, Settings

PROD = dict(
    JIESU_ENV="production",
    database_url="postgresql://app:pw@db:5432/jiesu",
    temporal_address="temporal:7233",
    secret_key="a-real-secret-of-32-characters!!",
    pii_key="another-real-secret-32-characters",
)


def make(**kw) -> Settings:
    return Settings(_env_file=None, **kw)


def test_production_with_real_secrets_is_accepted():
    s = make(**PROD)
    assert s.sqlalchemy_url == "postgresql+asyncpg://app:pw@db:5432/jiesu"
    assert s.asyncpg_dsn == "postgresql://app:pw@db:5432/jiesu"


@pytest.mark.parametrize("field,default", [("secret_key", DEV_SECRET_KEY), ("pii_key", DEV_PII_KEY)])
def test_production_refuses_default_secrets(field, default):
    with pytest.raises(ValidationError, match=field.upper()):
        make(**(PROD | {field: default}))


def test_development_defaults_work_without_any_setting():
    s = make()
    assert s.database_url is None and s.temporal_address is None
    assert s.sqlalchemy_url.startswith("postgresql+asyncpg://postgres@127.0.0.1:")
    assert s.temporal_target == "127.0.0.1:7233"


def test_production_requires_external_services():
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        make(**(PROD | {"database_url": None}))


@pytest.mark.parametrize(
    "kw",
    [
        {"database_url": "mysql://x@y/z"},
        {"temporal_address": "no-port"},
        {"api_port": 70000},
        {"weight_response": 0.5},  # weights no longer add up to 1
        {"reminder_at_fraction": 1.5},
        {"secret_key": "short"},
    ],
)
def test_bad_values_are_refused(kw):
    with pytest.raises(ValidationError):
        make(**kw)


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("API_PORT", "9001")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h:1/d")
    s = make()
    assert s.api_port == 9001
    assert s.sqlalchemy_url == "postgresql+asyncpg://u@h:1/d"


def test_env_example_lists_every_setting():
    text = (PROJECT_ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    expected = {(f.alias or name).upper() for name, f in Settings.model_fields.items()}
    assert expected == listed

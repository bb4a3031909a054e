"""The one place jiesu is configured.

Every setting comes from the environment (or a `.env` file beside the project); `.env.example`
lists them all. Nothing else in the code reads `os.environ` for configuration.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent

#: Values that are fine on a developer's laptop and never anywhere else.
DEV_SECRET_KEY = "dev-only-secret-key-change-me"
DEV_PII_KEY = "dev-only-personal-data-key-change-me"


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = Field(Environment.DEV, alias="JIESU_ENV")

    # --- where things live -------------------------------------------------------------
    data_dir: Path = Field(PROJECT_ROOT / ".data", alias="JIESU_DATA_DIR")
    database_url: str | None = Field(
        None,
        description="PostgreSQL URL. Unset: `make dev` starts an embedded PostgreSQL.",
    )
    postgres_port: int = Field(
        55432, ge=1, le=65535, description="Port of the embedded PostgreSQL (dev stack only)."
    )
    temporal_address: str | None = Field(
        None, description="host:port of Temporal. Unset: `make dev` starts the dev server."
    )
    temporal_port: int = Field(7233, ge=1, le=65535, description="Port of the dev server.")
    temporal_ui_port: int = Field(8233, ge=1, le=65535, description="Port of the Temporal UI.")
    temporal_ui_url: str | None = Field(
        None,
        description="Address of the Temporal UI that staff can open (the console links each appeal to its "
        "workflow there). Unset: the dev server's UI on 127.0.0.1.",
    )
    temporal_namespace: str = "default"
    temporal_task_queue: str = "appeals"
    workflow_sandbox: bool = Field(
        True,
        description="Run workflow code in Temporal's sandbox, which refuses non-deterministic "
        "calls. Off saves about a fifth of the stack's CPU per appeal; the tests always run "
        "sandboxed.",
    )
    worker_workflow_task_slots: int | None = Field(
        None,
        ge=2,
        description="Workflow tasks the worker runs at once; empty: the SDK's default, 100. A storm of "
        "timers on a small box can start more than its one event loop finishes within the 10 s "
        "workflow-task timeout; fewer slots leave the rest queued in Temporal instead.",
    )
    login_rate_per_minute: int = Field(10, ge=1, description="Login tries per client and username.")
    login_client_rate_per_minute: int = Field(
        30, ge=1, description="Login tries per client, whatever the usernames (against password spraying)."
    )
    intake_rate_per_minute: int = Field(600, ge=1, description="Intakes per operator account.")
    open311_rate_per_minute: int = Field(
        120, ge=1, description="Open311 calls per channel key (POST and GET together)."
    )
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)

    # --- metrics (Prometheus) ----------------------------------------------------------
    metrics_host: str = Field(
        "127.0.0.1", description="Where the worker's and the Temporal SDK's metrics endpoints listen."
    )
    metrics_port: int | None = Field(
        9464, ge=1, le=65535, description="The worker's own /metrics; empty: none. (The API's is on API_PORT.)"
    )
    temporal_metrics_port: int | None = Field(
        9465, ge=1, le=65535, description="The Temporal SDK's metrics of the worker; empty: none."
    )
    api_temporal_metrics_port: int | None = Field(
        9466, ge=1, le=65535, description="The Temporal SDK's metrics of the API's client; empty: none."
    )
    metrics_refresh_seconds: float = Field(
        15, gt=0, le=3600, description="How often the API re-reads the domain gauges from PostgreSQL."
    )

    # --- traces (OpenTelemetry, OTLP over HTTP) ------------------------------------------
    # The standard variables' names; unset (the default): no traces, and no cost.
    otel_exporter_otlp_endpoint: str | None = Field(
        None, description="Base URL of an OTLP/HTTP collector; traces go to <url>/v1/traces."
    )
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        None, description="Full URL traces are sent to (wins over OTEL_EXPORTER_OTLP_ENDPOINT)."
    )

    # --- secrets -----------------------------------------------------------------------
    secret_key: str = Field(DEV_SECRET_KEY, min_length=16, description="Signs access tokens.")
    pii_key: str = Field(DEV_PII_KEY, min_length=16, description="Encrypts personal data.")
    pii_previous_keys: str | None = Field(
        None, description="Comma-separated former PII keys, still accepted for reading."
    )

    # --- notifications ---------------------------------------------------------------------
    notify_webhook_url: str | None = Field(
        None, description="POST every notification here (signed); unset: they are logged."
    )
    notify_webhook_secret: str | None = Field(None, min_length=16, description="Signs webhook bodies.")

    # --- time-limit defaults (seed the policy table; the table is what the workflow uses) --
    emergency_limit_hours: int = Field(2, ge=1, description="Risk to life or property.")
    utility_limit_hours: int = Field(24, ge=1, description="Water, power, gas, heating failure.")
    ordinary_limit_days: int = Field(7, ge=1)
    complex_limit_days: int = Field(15, ge=1, description="After an approved extension.")
    objection_window_working_days: int = Field(1, ge=1)
    return_visit_window_working_days: int = Field(5, ge=1)
    max_rehandles: int = Field(
        2, ge=0, description="How often an unresolved appeal goes back to its unit (重办)."
    )
    reminder_at_fraction: float = Field(
        0.75, gt=0, lt=1, description="A reminder fires when this share of a limit has passed."
    )
    workday_end_hour: int = Field(
        18, ge=1, le=24, description="Limits counted in working days end at this local hour."
    )
    timezone: str = "Asia/Shanghai"

    # --- assessment (三率) ---------------------------------------------------------------
    weight_response: float = Field(0.1, ge=0, le=1)
    weight_resolution: float = Field(0.5, ge=0, le=1)
    weight_satisfaction: float = Field(0.4, ge=0, le=1)
    basically_satisfied_factor: float = Field(0.9, ge=0, le=1)

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if not v.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
            raise ValueError("DATABASE_URL must be a postgresql:// URL")
        return v

    @field_validator(
        "metrics_port", "temporal_metrics_port", "api_temporal_metrics_port", "worker_workflow_task_slots", mode="before"
    )
    @classmethod
    def _empty_is_off(cls, v):
        return None if v == "" else v

    @field_validator("otel_exporter_otlp_endpoint", "otel_exporter_otlp_traces_endpoint")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is None or v.strip() == "":
            return None
        if not v.startswith(("http://", "https://")):
            raise ValueError("an OTLP endpoint must be an http:// or https:// URL (OTLP over HTTP)")
        return v.strip()

    @field_validator("temporal_address")
    @classmethod
    def _host_port(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        host, _, port = v.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("TEMPORAL_ADDRESS must be host:port")
        return v

    @model_validator(mode="after")
    def _sane(self) -> Settings:
        total = self.weight_response + self.weight_resolution + self.weight_satisfaction
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"assessment weights must add up to 1, not {total:g}")
        if self.notify_webhook_url and not self.notify_webhook_secret:
            raise ValueError("NOTIFY_WEBHOOK_URL needs NOTIFY_WEBHOOK_SECRET to sign the bodies")
        if self.env is Environment.PRODUCTION:
            defaults = [
                name
                for name, value, default in (
                    ("SECRET_KEY", self.secret_key, DEV_SECRET_KEY),
                    ("PII_KEY", self.pii_key, DEV_PII_KEY),
                )
                if value == default
            ]
            if defaults:
                raise ValueError(
                    f"{', '.join(defaults)} still has its development default; "
                    "set a real secret outside dev"
                )
            if self.database_url is None:
                raise ValueError("DATABASE_URL is required outside dev")
            if self.temporal_address is None:
                raise ValueError("TEMPORAL_ADDRESS is required outside dev")
        return self

    # --- derived -----------------------------------------------------------------------
    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in the form SQLAlchemy's asyncpg dialect wants."""
        url = self.database_url or self.embedded_database_url
        for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        return url

    @property
    def asyncpg_dsn(self) -> str:
        """The database URL in the form asyncpg wants."""
        return self.sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    @property
    def embedded_database_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.postgres_port}/jiesu"

    @property
    def temporal_ui(self) -> str:
        return (self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}").rstrip("/")

    @property
    def otlp_traces_endpoint(self) -> str | None:
        """Where traces are sent (as the OTLP exporter's own rule has it), or None: no traces."""
        if self.otel_exporter_otlp_traces_endpoint:
            return self.otel_exporter_otlp_traces_endpoint
        if self.otel_exporter_otlp_endpoint:
            return self.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        return None

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()

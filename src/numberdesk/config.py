"""Settings, read from the environment with the ``NUMBERDESK_`` prefix."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SANDBOX_TWILIO_TOKEN = "sandbox-twilio-auth-token"  # noqa: S105  (public, sandbox only)


class Settings(BaseSettings):
    """Every knob of a deployment; the defaults run a self-contained sandbox."""

    model_config = SettingsConfigDict(env_prefix="NUMBERDESK_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = None
    provider: Literal["sandbox", "twilio", "telnyx"] = "sandbox"
    public_url: str = "http://127.0.0.1:8000"

    cooldown_hours: int = Field(24, ge=0, le=24 * 365)
    reclaim_days: int = Field(10, ge=1, le=365)
    provisioning_overdue_hours: int = Field(48, ge=1)

    sandbox_provisioning_seconds: int = Field(60, ge=0)
    sandbox_seed: int = 20261125
    sandbox_inventory_size: int = Field(50_000, ge=100, le=5_000_000)
    # After the reclaim window ends the sandbox carrier keeps a returned number
    # out of sale for this long ("aging"), as real carriers do.
    sandbox_aging_days: int = Field(30, ge=0)

    twilio_account_sid: str = "ACsandbox00000000000000000000000000"
    # Signs the sandbox's own webhook calls; a real Twilio deployment must set its token.
    twilio_auth_token: str = SANDBOX_TWILIO_TOKEN
    telnyx_api_key: str | None = None
    telnyx_public_key: str | None = None  # base64 ed25519 public key
    # Override the carrier's API host, for a proxy or a test double: replaces
    # https://api.twilio.com and https://pricing.twilio.com, or https://api.telnyx.com.
    carrier_api_base_url: str | None = None

    secret_key: str | None = None  # signs dashboard sessions; generated into data_dir if unset
    worker_interval_seconds: float = Field(5.0, gt=0)
    idempotency_hours: int = 24

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @model_validator(mode="after")
    def _real_carrier_needs_its_secret(self) -> Settings:
        if self.provider == "twilio" and self.twilio_auth_token == SANDBOX_TWILIO_TOKEN:
            raise ValueError("NUMBERDESK_PROVIDER=twilio needs NUMBERDESK_TWILIO_AUTH_TOKEN "
                             "(the default is the sandbox's public token)")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'numberdesk.sqlite3').resolve()}"

    @property
    def is_sandbox(self) -> bool:
        return self.provider == "sandbox"


@lru_cache
def get_settings() -> Settings:
    return Settings()

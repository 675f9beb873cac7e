"""Runtime settings, read from the environment (prefix ``MIDWAY_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    """SQLite file under ./var/, the embedded default."""
    return f"sqlite:///{Path('var') / 'midway.db'}"


class Settings(BaseSettings):
    """Every knob Midway reads; see docs/operate.md."""

    model_config = SettingsConfigDict(env_prefix="MIDWAY_", env_file=".env", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    base_url: str = "http://127.0.0.1:8000"
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 8
    # Deliveries sent at the same time by one worker (a slow endpoint no longer holds up
    # the others); 1 sends them one after another.
    webhook_concurrency: int = Field(8, ge=1, le=64)
    webhook_backoff_base_seconds: float = 5.0
    webhook_backoff_max_seconds: float = 6 * 3600.0
    worker_poll_seconds: float = 0.5
    idempotency_ttl_hours: int = 48
    # How often the worker sends each merchant's EDI partners an 846 of the stock at every
    # facility Midway runs for it; 0 turns the periodic 846 off.
    edi_inventory_advice_hours: float = 24.0
    idempotency_inflight_timeout_seconds: int = 60
    pool_size: int = 10


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``)."""
    return Settings()

"""Application settings: one object, read from `HOMEWARD_*` environment variables and `.env`."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development"}


class Settings(BaseSettings):
    """Every setting has an embedded default, so a bare checkout runs on a laptop."""

    model_config = SettingsConfigDict(env_prefix="HOMEWARD_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str = ""
    secret_key: str = ""
    public_base_url: str = "http://127.0.0.1:8000"

    session_max_age_s: int = 14 * 24 * 3600
    # Behind a reverse proxy that sets X-Forwarded-Proto (and strips it from clients).
    trust_forwarded_proto: bool = False
    # Wrong passwords for one email (or one account) within the window before it is refused
    # for the lock-out period after them (service/core/guesses.py).
    login_max_failures: int = 10
    # Wrong passwords from one client address, whatever the emails: much higher, so that a
    # hospital or a university behind one shared address is not locked out by one person.
    login_max_failures_per_ip: int = 100
    login_window_s: int = 60
    login_lockout_s: int = 300
    # Password reset links: how long one works, and how many may be asked for one email and
    # from one address within the window (so the form cannot flood someone's inbox).
    password_reset_max_age_s: int = 3600
    email_confirm_max_age_s: int = 86400
    password_reset_max_per_email: int = 3
    password_reset_max_per_ip: int = 20
    password_reset_window_s: int = 3600
    max_body_bytes: int = 1_000_000
    # Re-read a template whose file changed (one stat per template a render uses, includes
    # and imports too); `homeward serve --reload` turns it on for whoever edits templates.
    template_reload: bool = False

    search_backend: Literal["embedded", "meilisearch"] = "embedded"
    search_path: str = ""
    meili_url: str = "http://127.0.0.1:7700"
    meili_key: str = ""
    meili_index_prefix: str = "homeward_"

    embedding_model: str = "homeward-fused"
    embedding_threads: int = 2
    # What the encoder's torch models compute in: "auto" picks bfloat16 where the CPU runs it
    # natively, float32 elsewhere; "int8" (dynamically quantised Linear layers, 1.4x faster than
    # float32, hybrid nDCG@10 up to 0.014 lower) is only taken when set. Hosts with
    # different CPUs must share one value (docs/deploy.md): the vectors' version names it, and
    # a worker re-embeds vectors stored under another version.
    embedding_precision: Literal["auto", "float32", "bfloat16", "int8"] = "auto"
    # The small model that embeds search queries in the web process (a member of the encoder
    # above, compared with its block of the stored vectors); see bench/search_quality.py.
    search_query_model: str = "e5"
    load_encoder: bool = True

    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "Homeward <no-reply@homeward.local>"
    # Where a person writes when something is wrong with their account (an email change they
    # did not make); without it, the emails point to the site.
    contact_email: str = ""

    offer_expiry_days: int = 14
    offer_reminder_days: int = 3
    availability_reconfirm_days: int = 90
    proposal_stale_days: int = 7
    proposals_per_need: int = 10
    # Assignment plan: the most unanswered offers an expert may hold, and the solver's budget.
    assignment_max_open_offers: int = 3
    assignment_time_limit_s: float = 10.0
    run_worker_in_process: bool = False

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'homeward.sqlite3'}"
        if not self.search_path:
            self.search_path = str(self.data_dir / "search.sqlite3")
        if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            if self.environment == "production":
                raise ValueError(
                    "HOMEWARD_SECRET_KEY must be set to a long random value in production"
                )
            self.secret_key = _development_secret(self.data_dir)
        return self

    @property
    def is_sqlite(self) -> bool:
        """Tells whether the configured database is SQLite."""
        return self.database_url.startswith("sqlite")

    @property
    def cookie_secure(self) -> bool:
        """Cookies are marked Secure when the site is served over HTTPS."""
        return self.public_base_url.startswith("https://")


def _development_secret(data_dir: Path) -> str:
    """Generates a secret on first run and keeps it, so sessions survive restarts."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


@lru_cache
def get_settings() -> Settings:
    """Gets the process-wide settings, read once."""
    return Settings()

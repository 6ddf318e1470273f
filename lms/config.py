"""Configuration: defaults, then LMS_* environment variables, then explicit overrides."""

import os
import secrets
from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = {
    "SITE_NAME": "Pharmacy Informatics Academy",
    # The CE provider named on certificates; empty means "not an accredited provider".
    "PROVIDER_NAME": "Pharmacy Informatics Academy (demo)",
    "ACCREDITED_PROVIDER": False,
    "CONTENT_DIR": str(PROJECT_ROOT / "content"),
    "QUIZZES_DIR": str(PROJECT_ROOT / "quizzes"),
    "SANDBOX_DIR": str(PROJECT_ROOT / "sandbox"),
    # Curriculum standard checked by `lms content check`: words of lesson text per module.
    "CONTENT_MIN_WORDS": 2500,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": False,
    # Sign-in throttles: per client address, and per account (failed attempts only).
    "LOGIN_LIMIT_PER_IP": "20 per 5 minutes",
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes",
    "SET_PASSWORD_LINK_HOURS": 72,
    # The recertification rule the requirement tracker measures against (PTCB's CPhT rule, as an example:
    # 20 hours every 2 years including 1 hour of pharmacy law and 1 of patient safety).
    "CE_REQUIREMENT": {
        "label": "PTCB CPhT recertification (example)",
        "hours": 20,
        "years": 2,
        "categories": [
            # PTCB counts law and patient-safety hours by the activity's ACPE topic designator.
            {"label": "Pharmacy law", "hours": 1, "topic_codes": ["03"],
             "note": "No module on this site is designated as law (ACPE topic 03) yet."},
            {"label": "Patient safety", "hours": 1, "topic_codes": ["05"]},
        ],
    },
    # Email copies of notifications: off unless SMTP_HOST is set (LMS_SMTP_HOST ...).
    "SMTP_HOST": "",
    "SMTP_PORT": 587,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_FROM": "",
    "SMTP_STARTTLS": True,
    # Public address of the site, for links in emails (e.g. https://academy.hospital.org).
    "BASE_URL": "",
    # Honour X-Forwarded-* from this many proxies (0 = none); set behind a load balancer.
    "PROXY_COUNT": 0,
}


def database_url(raw: str | None, instance_path: str) -> str:
    """Return a SQLAlchemy URL, defaulting to SQLite under instance/ and preferring psycopg 3."""
    if not raw:
        return "sqlite:///" + str(Path(instance_path) / "lms.sqlite3")
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def instance_secret_key(instance_path: str) -> str:
    """Read the secret key generated into instance/, creating it on first use."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_config(app: Flask, overrides: dict | None = None) -> None:
    """Fill app.config from defaults, the environment and overrides, in that order."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("LMS")
    if overrides:
        app.config.from_mapping(overrides)
    raw_url = app.config.get("DATABASE_URL") or os.environ.get("DATABASE_URL")
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", database_url(raw_url, app.instance_path))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    app.config["RATELIMIT_ENABLED"] = app.config.get("RATELIMIT_ENABLED", True)

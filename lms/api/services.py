"""Creating, revoking and resolving personal API tokens."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.accounts.services import Actor, SessionUser, audit
from lms.api.models import ApiToken
from lms.db import utcnow

MAX_TOKENS = 10
# The terms a token may be created with, in days; a token never lives longer than a year.
TOKEN_TERMS_DAYS = (7, 30, 90, 180, 365)
DEFAULT_TOKEN_DAYS = 90


class TokenError(ValueError):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, actor: Actor, user_id: int, name: str, now: datetime,
                 days: int = DEFAULT_TOKEN_DAYS) -> tuple[ApiToken, str]:
    """Create a token valid for ``days`` and return it with its secret, which is never stored or shown again."""
    name = name.strip()
    if not name:
        raise TokenError("Name the token after where you will use it, e.g. 'transcript script'.")
    if days not in TOKEN_TERMS_DAYS:
        raise TokenError(f"Choose how long the token lasts: {', '.join(map(str, TOKEN_TERMS_DAYS))} days.")
    active = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None),
                                                    ApiToken.expires_at > now)).all()
    if len(active) >= MAX_TOKENS:
        raise TokenError(f"You already have {MAX_TOKENS} active tokens; revoke one first.")
    secret = "lms_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user_id, name=name[:80], token_hash=_hash(secret), prefix=secret[:10], created_at=now,
                     expires_at=now + timedelta(days=days))
    session.add(token)
    session.flush()
    audit(session, actor, "api_token.created", token, name=token.name, days=days)
    return token, secret


def revoke_token(session: Session, actor: Actor, user_id: int, token_id: int, now: datetime) -> None:
    changed = session.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id,
                                                     ApiToken.revoked_at.is_(None)).values(revoked_at=now)).rowcount
    if changed != 1:
        raise TokenError("No such active token.")
    audit(session, actor, "api_token.revoked", None, token_id=token_id)


def user_for_token(session: Session, secret: str, now: datetime) -> SessionUser | None:
    """The active user a live (unrevoked, unexpired) token belongs to, or None."""
    row = session.execute(
        select(ApiToken.id, User.id, User.email, User.name, User.role, User.active)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _hash(secret), ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
    ).first()
    if row is None or not row.active:
        return None
    token_id, *user = row
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    return SessionUser(*user)


def load_api_user(session: Session, req) -> SessionUser | None:
    """Flask-Login request loader: /api/ requests may authenticate with `Authorization: Bearer <token>`."""
    header = req.headers.get("Authorization", "")
    if not req.path.startswith("/api/") or not header.startswith("Bearer "):
        return None
    user = user_for_token(session, header[len("Bearer "):].strip(), utcnow())
    session.commit()  # keep last_used_at
    return user

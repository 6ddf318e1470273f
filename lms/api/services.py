"""Creating, revoking and resolving personal API tokens."""

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.accounts.services import Actor, SessionUser, audit, load_session_user
from lms.api.models import ApiToken
from lms.db import utcnow

MAX_TOKENS = 10


class TokenError(ValueError):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, actor: Actor, user_id: int, name: str, now: datetime) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored or shown again."""
    name = name.strip()
    if not name:
        raise TokenError("Name the token after where you will use it, e.g. 'transcript script'.")
    active = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))).all()
    if len(active) >= MAX_TOKENS:
        raise TokenError(f"You already have {MAX_TOKENS} active tokens; revoke one first.")
    secret = "lms_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user_id, name=name[:80], token_hash=_hash(secret), prefix=secret[:10], created_at=now)
    session.add(token)
    session.flush()
    audit(session, actor, "api_token.created", token, name=token.name)
    return token, secret


def revoke_token(session: Session, actor: Actor, user_id: int, token_id: int, now: datetime) -> None:
    changed = session.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id,
                                                     ApiToken.revoked_at.is_(None)).values(revoked_at=now)).rowcount
    if changed != 1:
        raise TokenError("No such active token.")
    audit(session, actor, "api_token.revoked", None, token_id=token_id)


def user_for_token(session: Session, secret: str, now: datetime) -> SessionUser | None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret),
                                                  ApiToken.revoked_at.is_(None)))
    if token is None:
        return None
    token.last_used_at = now
    user = session.get(User, token.user_id)
    return load_session_user(session, user.get_id()) if user is not None else None


def load_api_user(session: Session, req) -> SessionUser | None:
    """Flask-Login request loader: /api/ requests may authenticate with `Authorization: Bearer <token>`."""
    header = req.headers.get("Authorization", "")
    if not req.path.startswith("/api/") or not header.startswith("Bearer "):
        return None
    user = user_for_token(session, header[len("Bearer "):].strip(), utcnow())
    session.commit()  # keep last_used_at
    return user

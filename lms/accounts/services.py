"""Account, cohort and audit logic. Functions take a session and explicit arguments; callers commit."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib.resources import files

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lms.access import ROLES
from lms.accounts.models import (
    AccountIdentity,
    AuditEvent,
    Cohort,
    CohortMember,
    CohortSupervisor,
    PasswordLink,
    User,
    new_session_token,
)

MIN_PASSWORD_LENGTH = 12
NABP_ID = re.compile(r"[0-9]{6,10}")  # ASCII digits only: \d also matches other scripts' digits
MMDD = re.compile(r"(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])")
DAYS_IN_MONTH = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
# Compared against when an email is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + secrets.token_hex(8))


class AccountError(ValueError):
    """Bad input for an account operation; ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Actor:
    """Who is acting, for the audit log."""

    user_id: int | None
    ip: str = ""


# --- passwords -------------------------------------------------------------------------

@cache
def common_passwords() -> frozenset[str]:
    text = files("lms.accounts").joinpath("common_passwords.txt").read_text()
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def password_problem(password: str, email: str = "") -> str | None:
    """Return why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > 256:
        return "Use at most 256 characters."
    lowered = password.lower()
    if lowered in common_passwords():
        return "That password is too common. Choose one that is harder to guess."
    if len(set(password)) < 4:
        return "That password repeats too few characters. Choose one that is harder to guess."
    if email and lowered == email.lower():
        return "Do not use your email address as your password."
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt with a random salt (Werkzeug's default)


def normalize_email(email: str) -> str:
    return email.strip().lower()


# --- audit -----------------------------------------------------------------------------

def audit(session: Session, actor: Actor, action: str, target: object | None = None, **details) -> AuditEvent:
    """Add an audit event; the caller's commit makes it durable with the change it describes."""
    event = AuditEvent(
        actor_id=actor.user_id,
        action=action,
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=getattr(target, "id", None),
        ip=actor.ip[:45],
        details=details,
    )
    session.add(event)
    return event


# --- sign-in ---------------------------------------------------------------------------

def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def authenticate(session: Session, email: str, password: str, actor_ip: str, now: datetime) -> User:
    """Return the user for valid credentials, or raise AccountError with one generic message.

    The same message is used for an unknown email and a wrong password. A deactivated
    account with the right password gets its own message: it cannot be used to probe emails
    because the password must be right first.
    """
    user = find_user_by_email(session, email)
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    ok = check_password_hash(stored, password) and user is not None and user.password_hash is not None
    if not ok:
        audit(session, Actor(user.id if user else None, actor_ip), "login.failed", user,
              email=normalize_email(email)[:254])
        raise AccountError("Email or password is incorrect.")
    if not user.active:
        audit(session, Actor(user.id, actor_ip), "login.refused_inactive", user)
        raise AccountError("This account has been deactivated. Ask an administrator to reactivate it.")
    user.last_login_at = now
    audit(session, Actor(user.id, actor_ip), "login.succeeded", user)
    return user


@dataclass(frozen=True)
class SessionUser(AccountIdentity):
    """The signed-in user as every request sees it: a small immutable value, read with one Core query.

    Loading a full ORM ``User`` on every request costs several times more; views that change the
    account load it explicitly with ``session.get(User, current_user.id)``.
    """

    id: int
    email: str
    name: str
    role: str
    active: bool
    session_token: str


_users = User.__table__
_SESSION_USER = select(_users.c.id, _users.c.email, _users.c.name, _users.c.role, _users.c.active,
                       _users.c.session_token).where(_users.c.id == bindparam("user_id"))


def load_session_user(session: Session, session_id: str) -> SessionUser | None:
    """Resolve the id stored in the session cookie (user id + session token)."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    row = session.execute(_SESSION_USER, {"user_id": int(user_id)}).first()
    if row is None or not row.active or not secrets.compare_digest(row.session_token, token):
        return None
    return SessionUser(*row)


# --- users -----------------------------------------------------------------------------

def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.", "role")


def _check_email_free(session: Session, email: str, except_id: int | None = None) -> None:
    query = select(User.id).where(User.email == email)
    if except_id is not None:
        query = query.where(User.id != except_id)
    if session.scalar(query) is not None:
        raise AccountError(f"An account with the email {email} already exists.", "email")


def create_user(session: Session, actor: Actor, email: str, name: str, role: str,
                password: str | None = None) -> User:
    """Create an account. Without a password the user sets one through a one-time link."""
    email = normalize_email(email)
    _check_role(role)
    _check_email_free(session, email)
    if password is not None:
        problem = password_problem(password, email)
        if problem:
            raise AccountError(problem, "password")
    user = User(email=email, name=name.strip(), role=role,
                password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    audit(session, actor, "user.created", user, email=email, role=role)
    return user


def update_user(session: Session, actor: Actor, user: User, email: str, name: str, role: str) -> User:
    """Change a user's email, name and role (admin action)."""
    email = normalize_email(email)
    _check_role(role)
    _check_email_free(session, email, except_id=user.id)
    if actor.user_id == user.id and role != user.role:
        raise AccountError("You cannot change your own role; ask another administrator.", "role")
    changes = {}
    for field, value in (("email", email), ("name", name.strip()), ("role", role)):
        if getattr(user, field) != value:
            changes[field] = [getattr(user, field), value]
            setattr(user, field, value)
    if changes:
        audit(session, actor, "user.role_changed" if "role" in changes else "user.updated", user, changes=changes)
    return user


def set_active(session: Session, actor: Actor, user: User, active: bool) -> User:
    """Deactivate or reactivate an account; deactivation ends its sessions."""
    if actor.user_id == user.id and not active:
        raise AccountError("You cannot deactivate your own account.")
    if user.active != active:
        user.active = active
        user.session_token = new_session_token()
        audit(session, actor, "user.reactivated" if active else "user.deactivated", user)
    return user


def update_profile(session: Session, actor: Actor, user: User, name: str, email: str,
                   nabp_eprofile_id: str, birth_mmdd: str) -> User:
    """Update a user's own profile fields after validating each one."""
    email = normalize_email(email)
    nabp_eprofile_id = nabp_eprofile_id.strip()
    birth_mmdd = birth_mmdd.strip()
    if nabp_eprofile_id and not NABP_ID.fullmatch(nabp_eprofile_id):
        raise AccountError("An NABP e-Profile ID is 6 to 10 digits.", "nabp_eprofile_id")
    if birth_mmdd:
        match = MMDD.fullmatch(birth_mmdd)
        if not match or int(match.group(2)) > DAYS_IN_MONTH[int(match.group(1))]:
            raise AccountError("Enter the birth month and day as MMDD, e.g. 0415 for April 15.", "birth_mmdd")
    _check_email_free(session, email, except_id=user.id)
    changes = {}
    for field, value in (("name", name.strip()), ("email", email),
                         ("nabp_eprofile_id", nabp_eprofile_id or None), ("birth_mmdd", birth_mmdd or None)):
        if getattr(user, field) != value:
            changes[field] = value if field in ("name", "email") else "changed"
            setattr(user, field, value)
    if changes:
        audit(session, actor, "profile.updated", user, changes=changes)
    return user


def change_password(session: Session, actor: Actor, user: User, current: str, new: str) -> User:
    """Change a password after checking the current one; other sessions are signed out."""
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        raise AccountError("Your current password is not correct.", "current_password")
    problem = password_problem(new, user.email)
    if problem:
        raise AccountError(problem, "new_password")
    user.password_hash = hash_password(new)
    user.session_token = new_session_token()
    audit(session, actor, "password.changed", user)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_password_link(session: Session, actor: Actor, user: User, now: datetime, hours: int) -> str:
    """Create a one-time set-password token for ``user`` and return it (shown once, stored hashed).

    Issuing a new link cancels the user's earlier unused links.
    """
    for old in session.scalars(select(PasswordLink).where(PasswordLink.user_id == user.id,
                                                          PasswordLink.used_at.is_(None))):
        old.used_at = now
    token = secrets.token_urlsafe(32)
    session.add(PasswordLink(user_id=user.id, token_hash=_token_hash(token), created_by_id=actor.user_id,
                             created_at=now, expires_at=now + timedelta(hours=hours)))
    audit(session, actor, "password_link.issued", user, hours=hours)
    return token


def find_password_link(session: Session, token: str, now: datetime) -> PasswordLink:
    """Return the usable link for ``token`` or raise AccountError saying why it cannot be used."""
    link = session.scalar(select(PasswordLink).where(PasswordLink.token_hash == _token_hash(token)))
    if link is None:
        raise AccountError("This link is not valid. Ask an administrator for a new one.")
    if link.used_at is not None:
        raise AccountError("This link has already been used or replaced. Ask an administrator for a new one.")
    if link.expires_at <= now:
        raise AccountError("This link has expired. Ask an administrator for a new one.")
    if not link.user.active:
        raise AccountError("This account has been deactivated. Ask an administrator to reactivate it.")
    return link


def use_password_link(session: Session, token: str, password: str, now: datetime, ip: str) -> User:
    """Set a password through a one-time link and spend the link."""
    link = find_password_link(session, token, now)
    user = link.user
    problem = password_problem(password, user.email)
    if problem:
        raise AccountError(problem, "password")
    # Spend the link with a conditional UPDATE so two simultaneous submissions cannot both win.
    spent = session.execute(
        PasswordLink.__table__.update()
        .where(PasswordLink.id == link.id, PasswordLink.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if spent != 1:
        raise AccountError("This link has already been used or replaced. Ask an administrator for a new one.")
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    audit(session, Actor(user.id, ip), "password.set_by_link", user)
    return user


# --- cohorts ---------------------------------------------------------------------------

def is_cohort_supervisor(session: Session, user: User | SessionUser, cohort_id: int) -> bool:
    return session.scalar(
        select(func.count()).select_from(CohortSupervisor)
        .where(CohortSupervisor.cohort_id == cohort_id, CohortSupervisor.user_id == user.id)
    ) > 0


def can_manage_cohort(session: Session, user: User | SessionUser, cohort_id: int) -> bool:
    """Admins manage every cohort; supervisors only the cohorts they own."""
    if user.role == "admin":
        return True
    return user.role == "supervisor" and is_cohort_supervisor(session, user, cohort_id)


def visible_cohorts(session: Session, user: User | SessionUser) -> list[Cohort]:
    query = select(Cohort).order_by(Cohort.name)
    if user.role != "admin":
        query = query.join(CohortSupervisor).where(CohortSupervisor.user_id == user.id)
    return list(session.scalars(query))


def create_cohort(session: Session, actor: Actor, name: str, description: str = "",
                  supervisor_ids: list[int] | None = None) -> Cohort:
    name = name.strip()
    if not name:
        raise AccountError("Give the cohort a name.", "name")
    if session.scalar(select(Cohort.id).where(func.lower(Cohort.name) == name.lower())) is not None:
        raise AccountError(f"A cohort named {name!r} already exists.", "name")
    cohort = Cohort(name=name, description=description.strip())
    session.add(cohort)
    session.flush()
    for user_id in supervisor_ids or []:
        add_supervisor(session, actor, cohort, session.get(User, user_id))
    audit(session, actor, "cohort.created", cohort, name=name)
    return cohort


def add_member(session: Session, actor: Actor, cohort: Cohort, email: str) -> CohortMember:
    """Add a trainee, found by email, to a cohort."""
    user = find_user_by_email(session, email)
    if user is None:
        raise AccountError(f"No account has the email {normalize_email(email)}.", "email")
    if user.role != "trainee":
        raise AccountError(f"{user.email} is a {user.role}; only trainees join cohorts as members.", "email")
    if any(m.user_id == user.id for m in cohort.members):
        raise AccountError(f"{user.email} is already a member of {cohort.name}.", "email")
    member = CohortMember(cohort=cohort, user=user)
    session.add(member)
    session.flush()
    audit(session, actor, "cohort.member_added", cohort, user_id=user.id, email=user.email)
    return member


def remove_member(session: Session, actor: Actor, cohort: Cohort, user_id: int) -> None:
    member = session.scalar(select(CohortMember).where(CohortMember.cohort_id == cohort.id,
                                                      CohortMember.user_id == user_id))
    if member is None:
        raise AccountError("That trainee is not a member of this cohort.")
    session.delete(member)
    audit(session, actor, "cohort.member_removed", cohort, user_id=user_id)


def add_supervisor(session: Session, actor: Actor, cohort: Cohort, user: User | None) -> CohortSupervisor:
    if user is None or user.role not in ("supervisor", "admin"):
        raise AccountError("Choose a supervisor account.", "supervisor_id")
    if any(s.user_id == user.id for s in cohort.supervisors):
        raise AccountError(f"{user.email} already supervises {cohort.name}.", "supervisor_id")
    link = CohortSupervisor(cohort=cohort, user=user)
    session.add(link)
    session.flush()
    audit(session, actor, "cohort.supervisor_added", cohort, user_id=user.id, email=user.email)
    return link


def remove_supervisor(session: Session, actor: Actor, cohort: Cohort, user_id: int) -> None:
    link = session.scalar(select(CohortSupervisor).where(CohortSupervisor.cohort_id == cohort.id,
                                                        CohortSupervisor.user_id == user_id))
    if link is None:
        raise AccountError("That user does not supervise this cohort.")
    session.delete(link)
    audit(session, actor, "cohort.supervisor_removed", cohort, user_id=user_id)

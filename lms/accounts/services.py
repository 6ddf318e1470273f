"""Account, cohort and audit logic. Functions take a session and explicit arguments; callers commit."""

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib.resources import files

from limits import parse as parse_rate_limit
from sqlalchemy import bindparam, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from werkzeug.security import check_password_hash, generate_password_hash

from lms.access import ROLES
from lms.accounts.models import (
    AccountIdentity,
    AuditEvent,
    Cohort,
    CohortMember,
    CohortSupervisor,
    LoginFailure,
    MembershipRequest,
    PasswordLink,
    User,
    UserSession,
)
from lms.api.models import ApiToken

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


# --- sign-in throttling ------------------------------------------------------------------

@dataclass(frozen=True)
class Throttle:
    """At most ``limit`` failed sign-ins within ``window``."""

    limit: int
    window: timedelta

    @classmethod
    def parse(cls, text: str) -> "Throttle":
        """Read a rate such as "5 per 15 minutes" (the limits library's notation, as Flask-Limiter uses)."""
        item = parse_rate_limit(text)
        return cls(item.amount, timedelta(seconds=item.get_expiry()))


class SignInThrottled(Exception):
    """Too many recent failures for this email from this address, or from this address at all."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def begin_sign_in(session: Session, email: str, ip: str, now: datetime, *throttles: Throttle) -> LoginFailure:
    """Record a sign-in attempt as a failure until proven otherwise; the caller commits it before checking.

    Writing the row *before* the password is verified is what makes the limit hold across workers and
    servers even for simultaneous guesses: each attempt commits its row, then counts everyone's
    committed rows (check_sign_in), so of N parallel guesses at most the limit get through.
    A successful sign-in deletes its row again (forget_attempt): successes never count.
    """
    oldest_needed = now - max((t.window for t in throttles), default=timedelta(0))
    session.execute(delete(LoginFailure).where(LoginFailure.at < oldest_needed))  # cheap pruning, indexed
    attempt = LoginFailure(account=normalize_email(email)[:254], ip=ip[:45], at=now)
    session.add(attempt)
    session.flush()
    return attempt


def _wait_seconds(session: Session, where, limit: int, window: timedelta, attempt: LoginFailure,
                  now: datetime) -> int:
    # The lock lifts when the limit-th most recent earlier failure leaves the window.
    edge = session.scalar(select(LoginFailure.at).where(*where, LoginFailure.id != attempt.id)
                          .order_by(LoginFailure.at.desc()).offset(limit - 1).limit(1))
    return max(math.ceil(((edge or now) + window - now).total_seconds()), 1)


def check_sign_in(session: Session, attempt: LoginFailure, now: datetime, per_account: Throttle,
                  per_ip: Throttle) -> None:
    """Raise SignInThrottled (and drop the attempt's row) when this email+address or this address is over its limit.

    The email is counted as typed, whether or not an account has it, so the answer never tells
    an unknown email from a real one.
    """
    checks = (
        (per_account, (LoginFailure.account == attempt.account, LoginFailure.ip == attempt.ip),
         "Too many failed sign-in attempts for this account from your address."),
        (per_ip, (LoginFailure.ip == attempt.ip,), "Too many failed sign-in attempts from your network."),
    )
    for throttle, where, message in checks:
        recent = session.scalar(select(func.count()).select_from(LoginFailure)
                                .where(*where, LoginFailure.at > now - throttle.window))
        if recent > throttle.limit:
            wait = _wait_seconds(session, where, throttle.limit, throttle.window, attempt, now)
            session.delete(attempt)  # a refused attempt checked no password: it does not extend the lock
            session.flush()
            minutes = math.ceil(wait / 60)
            raise SignInThrottled(f"{message} Wait {minutes} minute{'s' if minutes != 1 else ''} and try again.",
                                  wait)


def forget_attempt(session: Session, attempt: LoginFailure) -> None:
    """The password was right: remove the provisional failure so successful sign-ins never count."""
    session.execute(delete(LoginFailure).where(LoginFailure.id == attempt.id))


# --- sessions ------------------------------------------------------------------------------

# last_seen_at is written at most this often, so a signed-in page view costs one SELECT, not a write.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
# Ended or idle session rows are deleted after this long (the audit log keeps sign-ins and sign-outs).
SESSION_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class SessionUser(AccountIdentity):
    """The signed-in user as every request sees it: a small immutable value, read with one Core query.

    Loading a full ORM ``User`` on every request costs several times more; views that change the
    account load it explicitly with ``session.get(User, current_user.id)``. ``session_key`` and
    ``session_id`` name the UserSession behind a browser sign-in; both are None for an API token.
    """

    id: int
    email: str
    name: str
    role: str
    active: bool
    session_key: str | None = None
    session_id: int | None = None
    session_seen_at: datetime | None = None


def _session_user(user: User, session_key: str, session_id: int, seen_at: datetime) -> SessionUser:
    return SessionUser(user.id, user.email, user.name, user.role, user.active, session_key, session_id, seen_at)


def start_session(session: Session, user: User, now: datetime, user_agent: str, ip: str) -> SessionUser:
    """Record a new signed-in session for ``user``; the returned value's key goes into the cookie."""
    key = secrets.token_urlsafe(32)
    record = UserSession(key_hash=_token_hash(key), user_id=user.id, created_at=now, last_seen_at=now,
                         user_agent=user_agent[:200], ip=ip[:45])
    session.add(record)
    session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.ended_at < now - SESSION_RETENTION, UserSession.last_seen_at < now - SESSION_RETENTION)))
    session.flush()
    return _session_user(user, key, record.id, now)


_users = User.__table__
_sessions = UserSession.__table__
_SESSION_USER = (
    select(_users.c.id, _users.c.email, _users.c.name, _users.c.role, _users.c.active, _sessions.c.id,
           _sessions.c.last_seen_at)
    .select_from(_sessions.join(_users, _users.c.id == _sessions.c.user_id))
    .where(_sessions.c.key_hash == bindparam("key_hash"), _sessions.c.ended_at.is_(None))
)


def load_session_user(session: Session, session_key: str, now: datetime, idle: timedelta) -> SessionUser | None:
    """Resolve the key in the session cookie to its live session and user, with one query.

    Ended sessions, sessions idle longer than ``idle`` and deactivated users resolve to None.
    """
    if not session_key or len(session_key) > 100:
        return None
    row = session.execute(_SESSION_USER, {"key_hash": _token_hash(session_key)}).first()
    if row is None or not row.active or row.last_seen_at <= now - idle:
        return None
    user_id, email, name, role, active, session_id, last_seen_at = row
    return SessionUser(user_id, email, name, role, active, session_key, session_id, last_seen_at)


def touch_session(session: Session, user: SessionUser, now: datetime) -> bool:
    """Refresh the session's last_seen_at when it is older than SESSION_TOUCH_INTERVAL; True when written."""
    if user.session_id is None or user.session_seen_at is None or now - user.session_seen_at < SESSION_TOUCH_INTERVAL:
        return False
    session.execute(update(UserSession).where(UserSession.id == user.session_id).values(last_seen_at=now))
    return True


def live_sessions(session: Session, user_id: int, now: datetime, idle: timedelta) -> list[UserSession]:
    """The user's sessions that still sign someone in, most recently used first."""
    return list(session.scalars(select(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None), UserSession.last_seen_at > now - idle)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())))


def end_session(session: Session, user_id: int, session_id: int, now: datetime) -> bool:
    """End one of the user's own sessions; False when it is not theirs or has already ended."""
    return session.execute(update(UserSession).where(UserSession.id == session_id, UserSession.user_id == user_id,
                                                     UserSession.ended_at.is_(None))
                           .values(ended_at=now)).rowcount == 1


def end_all_sessions(session: Session, user_id: int, now: datetime) -> int:
    """End every session of the user (sign out everywhere); return how many were live."""
    return session.execute(update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
                           .values(ended_at=now)).rowcount


def revoke_api_tokens(session: Session, user_id: int, now: datetime) -> int:
    """Revoke every active API token of the user; return how many."""
    return session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                           .values(revoked_at=now)).rowcount


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


def set_active(session: Session, actor: Actor, user: User, active: bool, now: datetime) -> User:
    """Deactivate or reactivate an account; deactivation ends its sessions and revokes its API tokens."""
    if actor.user_id == user.id and not active:
        raise AccountError("You cannot deactivate your own account.")
    if user.active != active:
        user.active = active
        if active:
            audit(session, actor, "user.reactivated", user)
        else:
            ended = end_all_sessions(session, user.id, now)
            revoked = revoke_api_tokens(session, user.id, now)
            audit(session, actor, "user.deactivated", user, sessions_ended=ended, api_tokens_revoked=revoked)
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


def change_password(session: Session, actor: Actor, user: User, current: str, new: str, now: datetime,
                    revoke_tokens: bool = False) -> User:
    """Change a password after checking the current one. Every session ends (the caller starts a new one
    for the device that made the change); with ``revoke_tokens`` the API tokens are revoked too."""
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        raise AccountError("Your current password is not correct.", "current_password")
    problem = password_problem(new, user.email)
    if problem:
        raise AccountError(problem, "new_password")
    user.password_hash = hash_password(new)
    ended = end_all_sessions(session, user.id, now)
    revoked = revoke_api_tokens(session, user.id, now) if revoke_tokens else 0
    audit(session, actor, "password.changed", user, sessions_ended=ended, api_tokens_revoked=revoked)
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
    ended = end_all_sessions(session, user.id, now)
    audit(session, Actor(user.id, ip), "password.set_by_link", user, sessions_ended=ended)
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


# Shown after every add-member submission that is not an error the requester can already see, so
# the form cannot be used to learn which emails have accounts, which are staff, or whose trainee is whose.
ADD_MEMBER_MESSAGE = ("If a trainee account has that email, they have been added or a request has been sent "
                      "to their current supervisor.")


def can_manage_trainee(session: Session, user: User | SessionUser, trainee_id: int) -> bool:
    """Admins, and supervisors who own a cohort the trainee is a member of.

    The one rule for acting on a trainee's records (individual assignments, sandbox reviews); it is
    safe because membership of another owner's trainee needs that owner's approval (MembershipRequest).
    """
    if user.role == "admin":
        return True
    return user.role == "supervisor" and session.scalar(select(exists().where(
        CohortMember.user_id == trainee_id,
        CohortMember.cohort_id == CohortSupervisor.cohort_id,
        CohortSupervisor.user_id == user.id)))


def _owned_by(user_id: int):
    return select(CohortSupervisor.cohort_id).where(CohortSupervisor.user_id == user_id)


def add_member(session: Session, actor: Actor, adder: User | SessionUser, cohort: Cohort, email: str,
               now: datetime) -> CohortMember | MembershipRequest | None:
    """Add a trainee, found by email, to a cohort, or ask their current supervisor first.

    Admins add directly. A supervisor adds directly a trainee who is in no cohort or only in cohorts
    the supervisor owns; a trainee of any other owner's cohort gets a pending MembershipRequest that
    an owner of one of those cohorts (or an admin) decides. Returns the membership, the request, or
    None when no trainee has the email; callers show ADD_MEMBER_MESSAGE for all three.
    """
    user = find_user_by_email(session, email)
    if user is None or user.role != "trainee":
        audit(session, actor, "cohort.member_not_added", cohort, email=normalize_email(email)[:254],
              reason="no account" if user is None else f"a {user.role}")
        return None
    if any(m.user_id == user.id for m in cohort.members):
        raise AccountError(f"{user.email} is already a member of {cohort.name}.", "email")
    foreign = session.scalar(select(exists().where(
        CohortMember.user_id == user.id, CohortMember.cohort_id.not_in(_owned_by(adder.id)))))
    if adder.role != "admin" and foreign:
        return _request_membership(session, actor, adder, cohort, user, now)
    return _add_membership(session, actor, cohort, user, now)


def _add_membership(session: Session, actor: Actor, cohort: Cohort, user: User, now: datetime) -> CohortMember:
    member = CohortMember(cohort=cohort, user=user, joined_at=now)
    session.add(member)
    session.flush()
    # A direct add settles any request still waiting for the same cohort and trainee.
    session.execute(update(MembershipRequest).where(
        MembershipRequest.cohort_id == cohort.id, MembershipRequest.user_id == user.id,
        MembershipRequest.status == "pending").values(status="accepted", decided_by_id=actor.user_id, decided_at=now))
    audit(session, actor, "cohort.member_added", cohort, user_id=user.id, email=user.email)
    return member


def _request_membership(session: Session, actor: Actor, adder: User | SessionUser, cohort: Cohort, user: User,
                        now: datetime) -> MembershipRequest:
    pending = select(MembershipRequest).where(MembershipRequest.cohort_id == cohort.id,
                                              MembershipRequest.user_id == user.id,
                                              MembershipRequest.status == "pending")
    request = MembershipRequest(cohort_id=cohort.id, user_id=user.id, requested_by_id=adder.id, created_at=now)
    try:
        with session.begin_nested():  # the partial unique index settles two simultaneous submissions
            session.add(request)
    except IntegrityError:
        return session.scalar(pending)
    audit(session, actor, "cohort.member_requested", cohort, user_id=user.id, request_id=request.id)
    return request


def _decidable_by(decider_id: int):
    """Requests a supervisor may decide: the trainee is in a cohort the decider owns and the requester does not."""
    decider, requester = aliased(CohortSupervisor), aliased(CohortSupervisor)
    return exists(
        select(CohortMember.id).join(decider, decider.cohort_id == CohortMember.cohort_id)
        .where(CohortMember.user_id == MembershipRequest.user_id, decider.user_id == decider_id,
               ~exists().where(requester.cohort_id == CohortMember.cohort_id,
                               requester.user_id == MembershipRequest.requested_by_id))
    )


def requests_to_decide(session: Session, user: User | SessionUser) -> list[MembershipRequest]:
    """Pending requests waiting for ``user``: all of them for admins, otherwise those for their trainees."""
    query = (select(MembershipRequest).where(MembershipRequest.status == "pending")
             .order_by(MembershipRequest.created_at, MembershipRequest.id))
    if user.role != "admin":
        query = query.where(_decidable_by(user.id))
    return list(session.scalars(query))


def can_decide_request(session: Session, user: User | SessionUser, request: MembershipRequest) -> bool:
    if request.status != "pending":
        return False
    if user.role == "admin":
        return True
    return user.role == "supervisor" and session.scalar(
        select(func.count()).select_from(MembershipRequest)
        .where(MembershipRequest.id == request.id, _decidable_by(user.id))) > 0


def decide_request(session: Session, actor: Actor, decider: User | SessionUser, request: MembershipRequest,
                   accept: bool, now: datetime) -> MembershipRequest:
    """Accept (adding the membership) or decline a pending request, once: a conditional UPDATE settles races."""
    if not can_decide_request(session, decider, request):
        raise AccountError("That request has already been decided or is not yours to decide.")
    decided = session.execute(update(MembershipRequest).where(
        MembershipRequest.id == request.id, MembershipRequest.status == "pending").values(
        status="accepted" if accept else "declined", decided_by_id=decider.id, decided_at=now)).rowcount
    if decided != 1:
        raise AccountError("That request has already been decided.")
    session.refresh(request)
    cohort = session.get(Cohort, request.cohort_id)
    if accept and not session.scalar(select(exists().where(CohortMember.cohort_id == request.cohort_id,
                                                          CohortMember.user_id == request.user_id))):
        session.add(CohortMember(cohort_id=request.cohort_id, user_id=request.user_id, joined_at=now))
        session.flush()
    audit(session, actor, "cohort.member_request_accepted" if accept else "cohort.member_request_declined", cohort,
          user_id=request.user_id, request_id=request.id, requested_by_id=request.requested_by_id)
    return request


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

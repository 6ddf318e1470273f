"""Users, cohorts, one-time password links and the audit log."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import utcnow
from lms.extensions import db


class AccountIdentity(UserMixin):
    """What Flask-Login and templates need from a signed-in account, shared by the ORM row and the
    lightweight per-request value (accounts.services.SessionUser)."""

    id: int
    email: str
    name: str
    active: bool

    # UserMixin compares accounts by get_id(), which only a signed-in session has: ORM rows compare by
    # identity (one object per row per session), SessionUser by value (it is a dataclass).
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """The secret key of this sign-in's UserSession row: what Flask-Login keeps in the cookie."""
        key = getattr(self, "session_key", None)
        if not key:
            raise RuntimeError("sign in through accounts.services.start_session, which records the session")
        return key

    @property
    def display_name(self) -> str:
        return self.name or self.email


class User(AccountIdentity, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20), default="trainee")
    # None until the user sets a password through a one-time link.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    nabp_eprofile_id: Mapped[str | None] = mapped_column(String(10))
    birth_mmdd: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    memberships: Mapped[list["CohortMember"]] = relationship(back_populates="user")


class Cohort(db.Model):
    __tablename__ = "cohort"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list["CohortMember"]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan", order_by="CohortMember.id"
    )
    supervisors: Mapped[list["CohortSupervisor"]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan", order_by="CohortSupervisor.id"
    )


class CohortMember(db.Model):
    """A trainee's membership of a cohort."""

    __tablename__ = "cohort_member"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    cohort: Mapped[Cohort] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")


class CohortSupervisor(db.Model):
    """A supervisor who owns (manages and follows) a cohort."""

    __tablename__ = "cohort_supervisor"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)

    cohort: Mapped[Cohort] = relationship(back_populates="supervisors")
    user: Mapped[User] = relationship()


MEMBERSHIP_REQUEST_STATUSES = ("pending", "accepted", "declined")


class MembershipRequest(db.Model):
    """A supervisor asking to add a trainee who already belongs to another owner's cohort.

    Until the owner of one of the trainee's cohorts (or an admin) accepts, the requester gets no
    membership and so sees nothing of the trainee. The partial unique index keeps one pending
    request per cohort and trainee however many times the form is submitted at once.
    """

    __tablename__ = "membership_request"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'accepted', 'declined')", name="status"),
        Index("uq_membership_request_pending", "cohort_id", "user_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)  # the trainee
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]

    cohort: Mapped[Cohort] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class UserSession(db.Model):
    """One sign-in on one device. The cookie holds a random key; only its SHA-256 is stored.

    A session is live while ``ended_at`` is empty and it was seen within the idle limit; signing
    out, "sign out everywhere", a password change and deactivation set ``ended_at``.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    ended_at: Mapped[datetime | None]


class LoginFailure(db.Model):
    """One failed sign-in (or one in progress), counted per (email, address) and per address.

    Keyed by the email as typed (normalised), not by user id, so unknown emails are throttled
    exactly like real ones and the throttle reveals nothing about which accounts exist.
    """

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_account_ip_at", "account", "ip", "at"),
        Index("ix_login_failure_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class PasswordLink(db.Model):
    """A one-time, expiring link to set a password. Only a hash of the token is stored."""

    __tablename__ = "password_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AuditEvent(db.Model):
    """Who did what to whom, and when. Rows are only ever added."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[int | None]
    ip: Mapped[str] = mapped_column(String(45), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])

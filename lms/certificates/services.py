"""Who may see a credit, verification lookups, revocation, and the data behind certificates and exports."""

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from lms.accounts.models import CohortMember, User
from lms.accounts.services import Actor, SessionUser, audit, can_manage_cohort
from lms.certificates.codes import normalize_code
from lms.progress.models import Credit, CreditRevocation

REPORTING_DAYS = 60  # CPE Monitor expects credit reported within 60 days of completion


class RevokeError(ValueError):
    pass


def can_view_credit(session: Session, viewer: SessionUser | User, credit: Credit) -> bool:
    """The trainee, an admin, or a supervisor of a cohort the trainee belongs to."""
    if viewer.id == credit.user_id or viewer.role == "admin":
        return True
    if viewer.role != "supervisor":
        return False
    cohort_ids = session.scalars(select(CohortMember.cohort_id).where(CohortMember.user_id == credit.user_id))
    return any(can_manage_cohort(session, viewer, cohort_id) for cohort_id in cohort_ids)


@dataclass(frozen=True)
class Verification:
    status: str  # valid | revoked | not_found
    name: str = ""
    activity: str = ""
    completed_on: str = ""
    hours: float = 0.0
    revoked_on: str = ""


def verify(session: Session, typed_code: str) -> Verification:
    """Look a code up; show only name, activity, date and hours (and the revocation date)."""
    code = normalize_code(typed_code)
    if code is None:
        return Verification("not_found")
    credit = session.scalar(select(Credit).options(joinedload(Credit.user), joinedload(Credit.revocation))
                            .where(Credit.verification_code == code))
    if credit is None:
        return Verification("not_found")
    common = {"name": credit.user.display_name, "activity": credit.activity_title,
              "completed_on": credit.completed_at.strftime("%B %d, %Y"), "hours": credit.contact_hours}
    if credit.revocation is not None:
        return Verification("revoked", revoked_on=credit.revocation.revoked_at.strftime("%B %d, %Y"), **common)
    return Verification("valid", **common)


def revoke(session: Session, actor: Actor, credit: Credit, reason: str, now: datetime) -> CreditRevocation:
    reason = reason.strip()
    if len(reason) < 5:
        raise RevokeError("Give the reason for revoking (at least a few words); it is kept on record.")
    if credit.revocation is not None:
        raise RevokeError("This credit is already revoked.")
    revocation = CreditRevocation(credit_id=credit.id, revoked_at=now, revoked_by_id=actor.user_id, reason=reason)
    session.add(revocation)
    audit(session, actor, "credit.revoked", credit, reason=reason, code=credit.verification_code,
          user_id=credit.user_id)
    return revocation


def cohort_credits(session: Session, cohort_id: int, start: datetime | None, end: datetime | None) -> list[Credit]:
    """Credits earned by the cohort's current members, oldest first."""
    query = (select(Credit).options(joinedload(Credit.user), joinedload(Credit.revocation))
             .join(CohortMember, CohortMember.user_id == Credit.user_id)
             .where(CohortMember.cohort_id == cohort_id).order_by(Credit.completed_at, Credit.id))
    if start is not None:
        query = query.where(Credit.completed_at >= start)
    if end is not None:
        query = query.where(Credit.completed_at < end)
    return list(session.scalars(query).unique())


def cohort_credit_ids(session: Session, cohort_id: int, start: datetime | None, end: datetime | None) -> list[int]:
    """Ids of the valid (unrevoked) credits of the cohort's members, oldest first; ids only, for streaming."""
    query = (select(Credit.id).join(CohortMember, CohortMember.user_id == Credit.user_id)
             .outerjoin(CreditRevocation, CreditRevocation.credit_id == Credit.id)
             .where(CohortMember.cohort_id == cohort_id, CreditRevocation.id.is_(None))
             .order_by(Credit.completed_at, Credit.id))
    if start is not None:
        query = query.where(Credit.completed_at >= start)
    if end is not None:
        query = query.where(Credit.completed_at < end)
    return list(session.scalars(query))


CPE_COLUMNS = ["nabp_eprofile_id", "birth_mmdd", "trainee_name", "trainee_email", "activity_number",
               "activity_title", "completion_date", "contact_hours", "flags"]


def cpe_rows(credits: list[Credit], now: datetime) -> Iterator[list]:
    """CPE-Monitor-style rows: one per valid credit, flagging what would stop or delay reporting."""
    for credit in credits:
        if credit.revocation is not None:
            continue
        user = credit.user
        flags = []
        if not user.nabp_eprofile_id:
            flags.append("missing NABP e-Profile ID")
        if not user.birth_mmdd:
            flags.append("missing birth MMDD")
        if now - credit.completed_at > timedelta(days=REPORTING_DAYS):
            flags.append(f"completed more than {REPORTING_DAYS} days ago")
        yield [user.nabp_eprofile_id or "", user.birth_mmdd or "", user.display_name, user.email,
               credit.activity_number, credit.activity_title, credit.completed_at.date().isoformat(),
               credit.contact_hours, "; ".join(flags)]


class _ChunkBuffer:
    """A write-only file that hands over what was written so far, so a ZIP can stream."""

    def __init__(self):
        self.chunks: list[bytes] = []
        self.position = 0

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def stream_zip(files: Iterator[tuple[str, bytes]]) -> Iterator[bytes]:
    """Yield a ZIP archive piece by piece: only one member is in memory at a time."""
    buffer = _ChunkBuffer()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
            yield buffer.take()
    yield buffer.take()

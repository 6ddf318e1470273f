"""Who may see a credit, verification lookups, revocation, and the data behind certificates and exports."""

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from lms.accounts.models import CohortMember, User
from lms.accounts.services import NABP_ID, Actor, SessionUser, audit, can_manage_cohort
from lms.certificates.codes import normalize_code
from lms.notifications.notices import notify_credit_status
from lms.progress.models import Credit, CreditNameCorrection, CreditStatusEvent

REPORTING_DAYS = 60  # CPE Monitor expects credit reported within 60 days of completion


class RevokeError(ValueError):
    pass


class CorrectionError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


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
    credit = session.scalar(select(Credit).where(Credit.verification_code == code))
    if credit is None:
        return Verification("not_found")
    # The name as issued (or as an admin corrected it), never the profile's current name.
    common = {"name": credit.holder_name, "activity": credit.activity_title,
              "completed_on": credit.completed_at.strftime("%B %d, %Y"), "hours": credit.contact_hours}
    if credit.revoked:
        return Verification("revoked", revoked_on=credit.revoked_at.strftime("%B %d, %Y"), **common)
    return Verification("valid", **common)


def _reason(reason: str, verb: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise RevokeError(f"Give the reason for {verb} (at least a few words); it is kept on record.")
    return reason[:500]


def revoke(session: Session, actor: Actor, credit: Credit, reason: str, now: datetime,
           link: str = "") -> CreditStatusEvent:
    """Withdraw an earned credit: a "revoked" event, the credit's state, an audit event and the trainee's notice.

    The state changes with a conditional UPDATE, so of two admins revoking at once one wins and the
    other is told it is already revoked. ``link`` is where the notice points (the module page).
    """
    reason = _reason(reason, "revoking")
    changed = session.execute(update(Credit).where(Credit.id == credit.id, Credit.revoked_at.is_(None))
                              .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise RevokeError("This credit is already revoked.")
    return _record_status(session, actor, credit, "revoked", reason, now, link)


def newer_earned(session: Session, credit: Credit) -> Credit | None:
    """The earned credit for the same trainee, module and version that stands in this one's place, if any."""
    return session.scalar(select(Credit).where(Credit.user_id == credit.user_id, Credit.module_id == credit.module_id,
                                               Credit.content_version == credit.content_version,
                                               Credit.earned, Credit.id != credit.id))


def reinstate(session: Session, actor: Actor, credit: Credit, reason: str, now: datetime,
              link: str = "") -> CreditStatusEvent:
    """Restore a revoked credit: a "reinstated" event (the revocation stays in the history), audit, notice.

    Refused while the trainee holds a credit earned again for the same module version since the
    revocation: one earned credit per module version, which the database's partial unique index
    enforces even if two admins race.
    """
    reason = _reason(reason, "reinstating")
    if not credit.revoked:
        raise RevokeError("This credit is not revoked.")
    other = newer_earned(session, credit)
    if other is not None:
        raise RevokeError(f"The trainee has earned this module again since (credit {other.verification_code}); "
                          "that credit stands. Revoke it first if this one should be reinstated instead.")
    try:
        with session.begin_nested():
            changed = session.execute(update(Credit).where(Credit.id == credit.id, Credit.revoked_at.is_not(None))
                                      .values(revoked_at=None).execution_options(synchronize_session=False)).rowcount
    except IntegrityError as error:
        raise RevokeError("The trainee has just earned this module again; that credit stands.") from error
    if changed != 1:
        raise RevokeError("This credit is not revoked.")
    return _record_status(session, actor, credit, "reinstated", reason, now, link)


def _record_status(session: Session, actor: Actor, credit: Credit, action: str, reason: str, now: datetime,
                   link: str) -> CreditStatusEvent:
    """After the conditional UPDATE changed the credit: the history event, the audit entry and the trainee's notice."""
    session.refresh(credit, ["revoked_at"])
    event = CreditStatusEvent(credit=credit, action=action, at=now, actor_id=actor.user_id, reason=reason)
    session.add(event)
    session.flush()
    audit(session, actor, f"credit.{action}", credit, reason=reason, code=credit.verification_code,
          user_id=credit.user_id)
    notify_credit_status(session, credit, event, link, now)
    return event


def correct_name(session: Session, actor: Actor, credit: Credit, new_name: str, new_nabp_id: str, reason: str,
                 now: datetime) -> CreditNameCorrection:
    """Reissue a credit under a corrected name and NABP e-Profile ID: the only way either changes after issue.

    Appends a correction (old and new values, reason, admin, time) and writes an audit event; the
    verification code stays, so printed certificates and QR codes keep working and now show the
    corrected name.
    """
    new_name = " ".join((new_name or "").split())
    new_nabp_id = (new_nabp_id or "").strip() or None
    reason = (reason or "").strip()
    if not new_name:
        raise CorrectionError("Enter the name as it should appear on the certificate.", "name")
    if len(new_name) > 120:
        raise CorrectionError("A name is at most 120 characters.", "name")
    if new_nabp_id is not None and not NABP_ID.fullmatch(new_nabp_id):
        raise CorrectionError("An NABP e-Profile ID is 6 to 10 digits.", "nabp_eprofile_id")
    if len(reason) < 5:
        raise CorrectionError("Give the reason for the correction (at least a few words); it is kept on record.",
                              "reason")
    if new_name == credit.holder_name and new_nabp_id == credit.holder_nabp_id:
        raise CorrectionError("That is already the name and NABP e-Profile ID on this credit.", "name")
    correction = CreditNameCorrection(credit=credit, old_name=credit.holder_name, new_name=new_name,
                                      old_nabp_id=credit.holder_nabp_id, new_nabp_id=new_nabp_id,
                                      reason=reason[:500], corrected_by_id=actor.user_id, corrected_at=now)
    session.add(correction)
    credit.holder_name, credit.holder_nabp_id = new_name, new_nabp_id
    session.flush()
    audit(session, actor, "credit.name_corrected", credit, code=credit.verification_code, user_id=credit.user_id,
          old_name=correction.old_name, new_name=new_name, old_nabp_id=correction.old_nabp_id,
          new_nabp_id=new_nabp_id, reason=correction.reason)
    return correction


def cohort_credits(session: Session, cohort_id: int, start: datetime | None, end: datetime | None) -> list[Credit]:
    """Credits earned by the cohort's current members, oldest first."""
    query = (select(Credit).options(joinedload(Credit.user), selectinload(Credit.events))
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
             .where(CohortMember.cohort_id == cohort_id, Credit.earned)
             .order_by(Credit.completed_at, Credit.id))
    if start is not None:
        query = query.where(Credit.completed_at >= start)
    if end is not None:
        query = query.where(Credit.completed_at < end)
    return list(session.scalars(query))


CPE_COLUMNS = ["nabp_eprofile_id", "birth_mmdd", "trainee_name", "trainee_email", "activity_number",
               "activity_title", "completion_date", "contact_hours", "flags"]


def cpe_rows(credits: list[Credit], now: datetime) -> Iterator[list]:
    """CPE-Monitor-style rows: one per valid credit, flagging what would stop or delay reporting.

    Name and NABP e-Profile ID are the credit's, as issued (or corrected by an admin), not the profile's.
    """
    for credit in credits:
        if credit.revoked:
            continue
        user = credit.user
        flags = []
        if not credit.holder_nabp_id:
            flags.append("missing NABP e-Profile ID" + (" (added to the profile since: an admin can reissue the "
                                                        "credit with it)" if user.nabp_eprofile_id else ""))
        if not user.birth_mmdd:
            flags.append("missing birth MMDD")
        if now - credit.completed_at > timedelta(days=REPORTING_DAYS):
            flags.append(f"completed more than {REPORTING_DAYS} days ago")
        yield [credit.holder_nabp_id or "", user.birth_mmdd or "", credit.holder_name, user.email,
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

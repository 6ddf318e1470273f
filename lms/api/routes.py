"""/api/v1: JSON for scripts and other systems. Token auth (Authorization: Bearer ...); GET only."""

import re
from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from lms.access import public, roles, rule, signed_in
from lms.accounts import services as accounts
from lms.accounts.models import Cohort, CohortMember, User
from lms.api.openapi import DATE_MAX, DATE_MIN, MAX_ID, openapi_document
from lms.certificates import services as certificates
from lms.extensions import db, limiter
from lms.progress import services as progress
from lms.progress.models import Credit
from lms.validation import DateRange

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _credit_json(credit: Credit) -> dict:
    return {"code": credit.verification_code, "module_id": credit.module_id, "activity_title": credit.activity_title,
            "activity_number": credit.activity_number, "activity_type": credit.activity_type,
            "contact_hours": credit.contact_hours, "ceus": credit.ceus, "score_percent": credit.score_percent,
            "completed_at": credit.completed_at.isoformat(), "status": "revoked" if credit.revoked else "valid",
            "revoked_at": credit.revoked_at.isoformat() if credit.revoked else None}


def _dates() -> tuple[datetime | None, datetime | None]:
    # The document says a date parameter, when present, is exactly YYYY-MM-DD: refuse an empty or padded one
    # here, since DateRange (shared with the pages' forms) treats a blank field as "no limit".
    for name in ("start", "end"):
        if name in request.args and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", request.args[name]):
            abort(400, description=f"{name} must be a date like 2026-01-31, from {DATE_MIN} to {DATE_MAX}")
    dates = DateRange(request.args, labels=("start", "end"))
    dates.raise_for_errors()  # 400 {"error": ..., "message": "end must be between ..."}

    def moment(day):
        return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None

    start, end = moment(dates.start), moment(dates.end)
    return start, end + timedelta(days=1) if end else None


@bp.route("/me/credits")
@signed_in
def my_credits():
    return jsonify(credits=[_credit_json(c) for c in progress.credits_for(db.session, current_user.id)])


@bp.route("/me/transcript")
@signed_in
def my_transcript():
    credits = progress.credits_for(db.session, current_user.id, *_dates())
    return jsonify(credits=[_credit_json(c) for c in credits],
                   totals_by_year=[{"year": t.label, "hours": t.hours, "credits": t.credits}
                                   for t in progress.totals_by_year(credits)],
                   total_hours=round(sum(c.contact_hours for c in credits if not c.revoked), 2))


@bp.route("/verify/<code>")
@public
@limiter.limit("30 per minute")
def verify(code: str):
    result = certificates.verify(db.session, code)
    if result.status == "not_found":
        return jsonify(status="not_found"), 404
    body = {"status": result.status, "name": result.name, "activity": result.activity,
            "completed_on": result.completed_on, "hours": result.hours}
    if result.status == "revoked":
        body["revoked_on"] = result.revoked_on
    return jsonify(body)


@bp.route("/cohorts")
@roles("supervisor", "admin")
def cohorts():
    visible = accounts.visible_cohorts(db.session, current_user)
    ids = [c.id for c in visible]
    members = db.session.execute(select(CohortMember.cohort_id, User.id, User.name, User.email)
                                 .join(User, User.id == CohortMember.user_id)
                                 .where(CohortMember.cohort_id.in_(ids))).all()
    credit_counts = dict(db.session.execute(
        select(Credit.user_id, func.count()).where(Credit.user_id.in_([m[1] for m in members]), Credit.earned)
        .group_by(Credit.user_id)).all())
    hours = dict(db.session.execute(
        select(Credit.user_id, func.sum(Credit.contact_hours)).where(Credit.user_id.in_([m[1] for m in members]),
                                                                     Credit.earned)
        .group_by(Credit.user_id)).all())
    body = []
    for cohort in visible:
        trainees = [{"id": uid, "name": name, "email": email, "credits": credit_counts.get(uid, 0),
                     "contact_hours": round(hours.get(uid) or 0.0, 2)}
                    for cid, uid, name, email in members if cid == cohort.id]
        body.append({"id": cohort.id, "name": cohort.name, "trainees": trainees,
                     "credits_url": url_for("api.cohort_credits", cohort_id=cohort.id, _external=True)})
    return jsonify(cohorts=body)


def _cohort_manager(view_args: dict) -> None:
    if view_args["cohort_id"] > MAX_ID or db.session.get(Cohort, view_args["cohort_id"]) is None:
        abort(404)
    if not accounts.can_manage_cohort(db.session, current_user, view_args["cohort_id"]):
        abort(403)


@bp.route("/cohorts/<int:cohort_id>/credits")
@rule("supervisor of this cohort, or admin", ("supervisor", "admin"), _cohort_manager)
def cohort_credits(cohort_id: int):
    credits = certificates.cohort_credits(db.session, cohort_id, *_dates())
    return jsonify(credits=[{**_credit_json(c), "trainee": {"id": c.user_id, "name": c.holder_name,
                                                             "email": c.user.email}} for c in credits])


@bp.route("/openapi.json")
@public
def openapi():
    return jsonify(openapi_document(request.host_url.rstrip("/")))

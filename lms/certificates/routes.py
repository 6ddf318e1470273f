"""Certificate PDFs, Open Badges and xAPI exports, public verification, revocation, cohort exports."""

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from lms.access import public, roles, rule, signed_in
from lms.accounts.models import Cohort, User
from lms.certificates import services
from lms.certificates.codes import normalize_code
from lms.certificates.forms import NameCorrectionForm, ReinstateForm, RevokeForm, VerifyForm
from lms.db import utcnow
from lms.extensions import db, limiter
from lms.progress.models import Credit
from lms.validation import DateRange
from lms.web import actor, cohort_manager, csv_response

bp = Blueprint("certificates", __name__)
ZIP_BATCH = 100  # credits loaded at a time while a ZIP streams


def _viewable_credit(view_args: dict) -> None:
    credit = db.session.get(Credit, view_args["credit_id"])
    if credit is None or not services.can_view_credit(db.session, current_user, credit):
        abort(404)  # another trainee's certificate does not exist, as far as this user can tell


credit_viewer = rule("the credit's trainee, their cohort's supervisor, or admin", ("trainee", "supervisor", "admin"),
                     _viewable_credit)


# ACPE topic designators this site uses (DOMAIN.md); others print no topic line rather than a guess.
TOPIC_NAMES = {"04": "General pharmacy", "05": "Patient safety"}


def certificate_data(credit: Credit):
    from lms.certificates.pdf import CertificateData

    return CertificateData(
        trainee_name=credit.holder_name, activity_title=credit.activity_title,
        activity_number=credit.activity_number, activity_type=credit.activity_type,
        contact_hours=credit.contact_hours, ceus=credit.ceus, completed_on=credit.completed_at.date(),
        provider_name=current_app.config["PROVIDER_NAME"], accredited=current_app.config["ACCREDITED_PROVIDER"],
        verification_code=credit.verification_code,
        verify_url=url_for("certificates.verify_code", code=credit.verification_code, _external=True),
        topic=TOPIC_NAMES.get(credit.topic_code, ""), score_percent=credit.score_percent)


def _filename(credit: Credit) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "-", credit.holder_name).strip("-") or f"trainee-{credit.user_id}"
    return f"{credit.completed_at:%Y-%m-%d}-{name}-{credit.module_id}-{credit.verification_code}.pdf"


@bp.route("/credits/<int:credit_id>/certificate.pdf")
@credit_viewer
def certificate_pdf(credit_id: int):
    from lms.certificates.pdf import certificate_pdf as render_pdf

    credit = db.session.get(Credit, credit_id)
    if credit.revoked:
        abort(410, description="This credit was revoked; its certificate is no longer issued.")
    return Response(render_pdf(certificate_data(credit)), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(credit)}"'})


def _recipient_salt(credit: Credit) -> str:
    """Per-credit salt for the hashed recipient email. It is published in the badge, so it must not
    be (part of) the secret key: derive it, one way, from the key and the credit's code."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"badge-salt:" + credit.verification_code.encode(), hashlib.sha256).hexdigest()[:16]


@bp.route("/credits/<int:credit_id>/badge.json")
@credit_viewer
def badge(credit_id: int):
    from lms.certificates.badges import achievement_credential, sign_credential

    credit = db.session.get(Credit, credit_id)
    if credit.revoked:
        abort(410, description="This credit was revoked; its badge is no longer issued.")
    module_url = url_for("content.module_overview", module_id=credit.module_id, _external=True)
    credential = achievement_credential(
        credential_id=url_for("certificates.verify_code", code=credit.verification_code, _external=True),
        issuer_id=url_for("core.index", _external=True), issuer_name=current_app.config["PROVIDER_NAME"],
        issuer_url=url_for("core.index", _external=True), achievement_id=module_url,
        achievement_name=credit.activity_title,
        achievement_description=f"Completed the {credit.activity_title} module ({credit.activity_number}).",
        criteria="Read every lesson, passed the post-test at the module's pass mark and submitted the evaluation.",
        contact_hours=credit.contact_hours, activity_number=credit.activity_number,
        recipient_email=credit.user.email, recipient_name=credit.holder_name,
        salt=_recipient_salt(credit), valid_from=credit.completed_at)
    key = current_app.config.get("BADGE_SIGNING_KEY")
    if key:
        token = sign_credential(credential, key.encode() if isinstance(key, str) else key,
                                current_app.config.get("BADGE_SIGNING_KID", "key-1"))
        return Response(token, mimetype="application/vc+jwt")
    return Response(json.dumps(credential, indent=2), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="badge-{credit.verification_code}.json"'})


@bp.route("/learning/xapi.json")
@signed_in
def xapi_export():
    from lms.certificates.xapi import xapi_statements
    from lms.content.services import get_catalog
    from lms.quizzes.models import QuizAttempt

    user = db.session.get(User, current_user.id)
    attempts = db.session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == user.id,
                                                            QuizAttempt.kind == "post_test")
                                  .order_by(QuizAttempt.started_at)).all()
    credits = {c.module_id: c for c in db.session.scalars(select(Credit).where(Credit.user_id == user.id, Credit.earned)
                                                          .order_by(Credit.completed_at))}  # revoked: not completed
    statements = []
    catalog = get_catalog()
    for module_id in sorted({a.source_id for a in attempts} | set(credits)):
        module = catalog.module(module_id)
        statements += xapi_statements(
            actor_email=user.email,
            actor_name=credits[module_id].holder_name if module_id in credits else user.display_name,
            activity_id=url_for("content.module_overview", module_id=module_id, _external=True),
            activity_name=module.title if module else module_id,
            attempts=[{"id": a.id, "started_at": a.started_at, "submitted_at": a.submitted_at,
                       "score_percent": a.score_percent, "passed": a.passed, "pass_mark": a.pass_mark}
                      for a in attempts if a.source_id == module_id],
            completed_at=credits[module_id].completed_at if module_id in credits else None,
            platform=current_app.config["SITE_NAME"])
    return Response(json.dumps(statements, indent=2), mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="xapi-statements.json"'})


# --- public verification --------------------------------------------------------------------

@bp.route("/verify")
@public
@limiter.limit("30 per minute", error_message="Too many lookups from your network. Wait a minute and try again.")
def verify():
    form = VerifyForm(request.args)
    if request.args.get("code"):
        code = normalize_code(form.code.data or "")
        return redirect(url_for("certificates.verify_code", code=code or (form.code.data or "")[:40]))
    return render_template("certificates/verify.html", form=form, result=None)


@bp.route("/verify/<code>")
@public
@limiter.limit("30 per minute", error_message="Too many lookups from your network. Wait a minute and try again.")
def verify_code(code: str):
    result = services.verify(db.session, code)
    status = 404 if result.status == "not_found" else 200
    return render_template("certificates/verify.html", form=VerifyForm(), result=result,
                           code=normalize_code(code) or code[:40]), status


# --- admin: credits and revocation ------------------------------------------------------------

@bp.route("/admin/credits")
@roles("admin")
def credit_list():
    query_text = request.args.get("q", "").strip()
    query = select(Credit).options(joinedload(Credit.user), selectinload(Credit.events),
                                   selectinload(Credit.corrections)).join(User)
    if query_text:
        like = f"%{query_text.lower()}%"
        query = query.where(or_(User.email.ilike(like), User.name.ilike(like), Credit.holder_name.ilike(like),
                                Credit.activity_title.ilike(like), Credit.verification_code.ilike(like)))
    pagination = db.paginate(query.order_by(Credit.completed_at.desc()), per_page=50, error_out=False)
    return render_template("certificates/credits.html", pagination=pagination, q=query_text)


@bp.route("/admin/credits/<int:credit_id>/revoke", methods=["GET", "POST"])
@roles("admin")
def revoke(credit_id: int):
    credit = db.get_or_404(Credit, credit_id)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            services.revoke(db.session, actor(), credit, form.reason.data, utcnow(), link=_module_link(credit))
        except services.RevokeError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"Revoked credit {credit.verification_code}. The verification page now says revoked and the "
                  "trainee has been told why.", "success")
            return redirect(url_for("certificates.credit_list"))
    return render_template("certificates/revoke.html", credit=credit, form=form)


def _module_link(credit: Credit) -> str:
    """Where the trainee's notice points: the module page, site-relative (the inbox follows only those)."""
    return url_for("content.module_overview", module_id=credit.module_id)


@bp.route("/admin/credits/<int:credit_id>/reinstate", methods=["GET", "POST"])
@roles("admin")
def reinstate(credit_id: int):
    credit = db.get_or_404(Credit, credit_id)
    form = ReinstateForm()
    if form.validate_on_submit():
        try:
            services.reinstate(db.session, actor(), credit, form.reason.data, utcnow(), link=_module_link(credit))
        except services.RevokeError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"Reinstated credit {credit.verification_code}. It counts again and the trainee has been told.",
                  "success")
            return redirect(url_for("certificates.credit_list"))
    return render_template("certificates/reinstate.html", credit=credit, form=form,
                           newer=services.newer_earned(db.session, credit) if credit.revoked else None)


@bp.route("/admin/credits/<int:credit_id>/name", methods=["GET", "POST"])
@roles("admin")
def correct_name(credit_id: int):
    """Reissue a credit under a corrected name: the only way a later name change reaches a certificate."""
    credit = db.get_or_404(Credit, credit_id)
    form = NameCorrectionForm()
    if request.method == "GET":
        form.name.data, form.nabp_eprofile_id.data = credit.holder_name, credit.holder_nabp_id or ""
    if form.validate_on_submit():
        try:
            services.correct_name(db.session, actor(), credit, form.name.data, form.nabp_eprofile_id.data or "",
                                  form.reason.data, utcnow())
        except services.CorrectionError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors = [str(error)]
        else:
            db.session.commit()
            flash(f"Reissued credit {credit.verification_code} to {credit.holder_name}. The same code now verifies "
                  "under this name.", "success")
            return redirect(url_for("certificates.correct_name", credit_id=credit.id))
    status = 400 if request.method == "POST" else 200
    return render_template("certificates/correct_name.html", credit=credit, form=form), status


# --- supervisor exports ------------------------------------------------------------------------

def _range(dates: DateRange | None = None) -> tuple[datetime | None, datetime | None, str]:
    dates = dates or DateRange(request.args)
    dates.raise_for_errors()  # downloads have no form to show it on: a 400 page with the message
    start, end = dates.start, dates.end
    label = f"{start or 'start'}_to_{end or 'today'}"
    return (datetime(start.year, start.month, start.day, tzinfo=UTC) if start else None,
            datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1) if end else None, label)


@bp.route("/cohorts/<int:cohort_id>/exports")
@cohort_manager
def exports(cohort_id: int):
    cohort = db.session.get(Cohort, cohort_id)
    dates = DateRange(request.args)
    if dates.errors:
        return render_template("certificates/exports.html", cohort=cohort, credits=[], valid=[], flagged=0,
                               args=request.args, errors=dates.errors), 400
    start, end, _label = _range(dates)
    credits = services.cohort_credits(db.session, cohort.id, start, end)
    valid = [c for c in credits if not c.revoked]
    flagged = sum(1 for row in services.cpe_rows(valid, utcnow()) if row[-1])
    return render_template("certificates/exports.html", cohort=cohort, credits=credits, valid=valid,
                           flagged=flagged, args=request.args, errors={})


@bp.route("/cohorts/<int:cohort_id>/exports/cpe-monitor.csv")
@cohort_manager
def cpe_csv(cohort_id: int):
    start, end, label = _range()
    credits = services.cohort_credits(db.session, cohort_id, start, end)
    return csv_response(f"cpe-monitor-cohort{cohort_id}-{label}.csv", services.CPE_COLUMNS,
                        services.cpe_rows(credits, utcnow()))


@bp.route("/cohorts/<int:cohort_id>/exports/certificates.zip")
@cohort_manager
def certificates_zip(cohort_id: int):
    from lms.certificates.pdf import certificate_pdf as render_pdf

    start, end, label = _range()
    ids = services.cohort_credit_ids(db.session, cohort_id, start, end)  # credits load a batch at a time below

    def files():
        for offset in range(0, len(ids), ZIP_BATCH):
            batch = db.session.scalars(select(Credit).options(joinedload(Credit.user))
                                       .where(Credit.id.in_(ids[offset:offset + ZIP_BATCH]))
                                       .order_by(Credit.completed_at, Credit.id)).all()
            for credit in batch:
                yield _filename(credit), render_pdf(certificate_data(credit))
            db.session.expunge_all()

    filename = f"certificates-cohort{cohort_id}-{label}.zip"
    return Response(stream_with_context(services.stream_zip(files())), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "X-Certificate-Count": str(len(ids))})

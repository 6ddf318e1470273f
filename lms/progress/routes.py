"""My learning, the activity evaluation, and transcripts (page, CSV and PDF)."""

from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.access import signed_in
from lms.accounts.models import User
from lms.content.services import get_catalog
from lms.db import utcnow
from lms.extensions import db
from lms.progress import services
from lms.progress.forms import evaluation_form
from lms.quizzes.services import get_library
from lms.validation import DateRange
from lms.web import csv_response, issue_credit

bp = Blueprint("progress", __name__)


@bp.route("/learning")
@signed_in
def my_learning():
    catalog, library = get_catalog(), get_library()
    states = []
    for module in catalog.modules:
        bank = library.bank_for_module(module.id)
        states.append(services.completion(db.session, current_user.id, module, bank.pass_mark if bank else None))
    credits = services.credits_for(db.session, current_user.id)
    label, parts = services.requirement_progress(credits, current_app.config["CE_REQUIREMENT"], utcnow())
    return render_template("progress/learning.html", in_progress=[s for s in states if s.started and not s.credit],
                           completed=[s for s in states if s.credit], credits=credits, requirement=label,
                           parts=parts)


@bp.route("/modules/<module_id>/evaluation", methods=["GET", "POST"])
@signed_in
def evaluation(module_id: str):
    module = get_catalog().module(module_id)
    if module is None:
        abort(404)
    state = services.completion(db.session, current_user.id, module)
    if state.evaluated:
        flash("You have already evaluated this module. Thank you.", "info")
        return redirect(url_for("progress.my_learning"))
    if not (state.all_read and state.passed):
        flash("Read every lesson and pass the post-test first; then evaluate the activity.", "info")
        return redirect(url_for("content.module_overview", module_id=module.id))
    form = evaluation_form(module, request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        objectives = {o.id: form[f"objective_{o.id}"].data == "yes" for o in module.objectives}
        try:
            services.submit_evaluation(db.session, current_user.id, module, objectives, int(form.relevance.data),
                                       form.free_of_bias.data == "yes", form.minutes_spent.data,
                                       form.comments.data or "", utcnow())
        except services.EvaluationError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            issue_credit(module)
            db.session.commit()
            return redirect(url_for("progress.my_learning"))
    status = 400 if request.method == "POST" else 200
    return render_template("progress/evaluation.html", module=module, form=form,
                           objective_fields=[form[f"objective_{o.id}"] for o in module.objectives]), status


def transcript_data(user_id: int, dates: DateRange | None = None):
    """The credits in the requested range; a download with bad dates answers 400 with the message."""
    dates = dates or DateRange(request.args)
    dates.raise_for_errors()
    start, end = dates.start, dates.end
    as_dt = lambda d: datetime(d.year, d.month, d.day, tzinfo=UTC)  # noqa: E731
    credits = services.credits_for(db.session, user_id, as_dt(start) if start else None,
                                   as_dt(end) + timedelta(days=1) if end else None)
    period = (f"{start:%B %d, %Y}" if start else "the beginning") + " to " + (f"{end:%B %d, %Y}" if end else "today")
    return credits, start, end, period


@bp.route("/learning/transcript")
@signed_in
def transcript():
    dates = DateRange(request.args)
    if dates.errors:  # the messages go on the form, next to the dates as typed
        return render_template("progress/transcript.html", credits=[], start=request.args.get("start", ""),
                               end=request.args.get("end", ""), period="", errors=dates.errors, by_year=[],
                               by_cycle=[]), 400
    credits, start, end, period = transcript_data(current_user.id, dates)
    return render_template("progress/transcript.html", credits=credits, start=start, end=end, period=period,
                           by_year=services.totals_by_year(credits), by_cycle=services.totals_by_cycle(credits),
                           errors={})


TRANSCRIPT_COLUMNS = ["completion_date", "activity_title", "activity_number", "activity_type", "topic_code",
                      "contact_hours", "ceus", "score_percent", "verification_code", "status", "name_as_issued"]


@bp.route("/learning/transcript.csv")
@signed_in
def transcript_csv():
    credits, *_ = transcript_data(current_user.id)
    rows = [(c.completed_at.date().isoformat(), c.activity_title, c.activity_number, c.activity_type, c.topic_code,
             c.contact_hours, c.ceus, c.score_percent, c.verification_code, "revoked" if c.revoked else "valid",
             c.holder_name) for c in credits]
    return csv_response("transcript.csv", TRANSCRIPT_COLUMNS, rows)


@bp.route("/learning/transcript.pdf")
@signed_in
def transcript_pdf():
    from lms.certificates.pdf import TranscriptRow
    from lms.certificates.pdf import transcript_pdf as render_pdf

    credits, _start, _end, period = transcript_data(current_user.id)
    user = db.session.get(User, current_user.id)
    rows = [TranscriptRow(c.completed_at.date(), c.activity_title, c.activity_number, c.activity_type,
                          c.contact_hours, c.ceus, c.verification_code, "revoked" if c.revoked else "valid")
            for c in credits]
    # The name and NABP ID as issued on the most recent credit (a profile rename does not reach what was
    # certified); the profile's only when the period holds no credit.
    issued = next((c for c in reversed(credits) if c.earned), credits[-1] if credits else None)
    name, nabp = (issued.holder_name, issued.holder_nabp_id) if issued else (user.display_name, user.nabp_eprofile_id)
    pdf = render_pdf(name, rows, current_app.config["PROVIDER_NAME"],
                     current_app.config["ACCREDITED_PROVIDER"], utcnow().date(), period, nabp)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="transcript.pdf"'})

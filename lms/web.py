"""Web helpers shared by the features' routes, so no routes module imports another feature's routes or forms.

`actor` (who did it, for the audit log), `cohort_manager` (the access rule for a cohort's pages),
`ActionForm` (a CSRF-only form for one-button POSTs), `csv_response` (a spreadsheet-safe CSV download)
and `issue_credit` (check the completion rule after a triggering action and tell the trainee).
"""

import csv
import io

from flask import Response, abort, flash, request
from flask_login import current_user

from lms.access import rule
from lms.accounts import services as accounts
from lms.accounts.models import Cohort
from lms.accounts.services import Actor
from lms.db import utcnow
from lms.extensions import db
from lms.progress import services as progress
from lms.validation import FlaskForm


def actor() -> Actor:
    return Actor(current_user.id if current_user.is_authenticated else None, request.remote_addr or "")


def _require_cohort_manager(view_args: dict) -> None:
    cohort_id = view_args["cohort_id"]
    if db.session.get(Cohort, cohort_id) is None:
        abort(404)
    if not accounts.can_manage_cohort(db.session, current_user, cohort_id):
        abort(403)


cohort_manager = rule("supervisor of this cohort, or admin", ("supervisor", "admin"), _require_cohort_manager)


class ActionForm(FlaskForm):
    """An empty form that carries only the CSRF token, for one-button POST actions."""


def csv_response(filename: str, header: list[str], rows) -> Response:
    """A CSV that opens cleanly in a spreadsheet: UTF-8 with BOM, CRLF line ends, formula-safe cells."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe_cell(value) for value in row])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _safe_cell(value):
    """Spreadsheets run cells starting with = + - @ as formulas: prefix text cells that do."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def issue_credit(module) -> None:
    """Check the completion rule after a triggering action and tell the trainee if credit was earned."""
    _credit, issued = progress.issue_credit_if_complete(db.session, current_user.id, module, utcnow())
    if issued:
        flash(f"Module complete: {module.contact_hours:g} contact hours earned. Your certificate is ready.", "success")

"""A credit keeps the holder's name and NABP e-Profile ID as issued; only an admin's reissue changes them."""

import csv
import io
import json

from sqlalchemy import select

from lms.accounts.models import AuditEvent
from lms.extensions import db
from lms.progress.models import Credit, CreditNameCorrection
from tests.certificates.test_pdf import flat, pdf_text
from tests.conftest import create_cohort, create_user, fresh, login, post_form
from tests.progress.test_completion import complete

REAL, IMPOSTOR = "Ana Real", "Dr. Impostor Name"


def rename_on_profile(client, user, name, nabp=""):
    """The trainee edits their own profile, as anyone can at any time."""
    response = post_form(client, "/profile", {"name": name, "email": user.email, "nabp_eprofile_id": nabp,
                                              "birth_mmdd": "", "submit": "Save profile"})
    assert response.status_code in (200, 302)
    assert fresh(user).name == name, "the profile itself does change"


def earned_then_renamed(app, client):
    supervisor = create_user("supervisor")
    trainee = create_user("trainee", name=REAL, nabp_eprofile_id="1234567")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[trainee])
    login(client, trainee)
    complete(client)
    credit = db.session.scalar(select(Credit))
    rename_on_profile(client, trainee, IMPOSTOR, nabp="7654321")
    return trainee, supervisor, cohort, credit


def test_a_rename_after_issue_reaches_neither_the_verify_page_nor_the_pdf(app, client, tmp_path):
    """The public verify page, the certificate PDF and the badge show the name the credit was issued to."""
    _trainee, _supervisor, _cohort, credit = earned_then_renamed(app, client)
    assert (credit.holder_name, credit.holder_nabp_id) == (REAL, "1234567")
    page = app.test_client().get(f"/verify/{credit.verification_code}").text
    assert REAL in page and IMPOSTOR not in page
    response = client.get(f"/credits/{credit.id}/certificate.pdf")
    text = flat(pdf_text(response.data, tmp_path))
    assert REAL in text and IMPOSTOR not in text
    assert "Dr-Impostor" not in response.headers["Content-Disposition"]
    badge = json.loads(client.get(f"/credits/{credit.id}/badge.json").data)
    assert REAL in json.dumps(badge) and IMPOSTOR not in json.dumps(badge)
    transcript = flat(pdf_text(client.get("/learning/transcript.pdf").data, tmp_path))
    assert REAL in transcript and IMPOSTOR not in transcript and "1234567" in transcript


def test_the_cpe_monitor_export_uses_the_name_and_nabp_id_as_issued(app, client):
    _trainee, supervisor, cohort, _credit = earned_then_renamed(app, client)
    boss = app.test_client()
    login(boss, supervisor)
    text = boss.get(f"/cohorts/{cohort.id}/exports/cpe-monitor.csv").text.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["nabp_eprofile_id"], r["trainee_name"]) for r in rows] == [("1234567", REAL)]
    api = boss.get(f"/api/v1/cohorts/{cohort.id}/credits").json
    assert api["credits"][0]["trainee"]["name"] == REAL


def test_an_admin_reissue_corrects_the_name_keeps_the_code_and_is_audited(app, client, tmp_path):
    trainee, _supervisor, _cohort, credit = earned_then_renamed(app, client)
    code = credit.verification_code
    admin = app.test_client()
    login(admin, create_user("admin"))
    refused = post_form(admin, f"/admin/credits/{credit.id}/name",
                        {"name": "Ana Real-Smith", "nabp_eprofile_id": "1234567", "reason": ""})
    assert refused.status_code == 400 and "Give the reason for the correction." in refused.text
    bad_id = post_form(admin, f"/admin/credits/{credit.id}/name",
                       {"name": "Ana Real-Smith", "nabp_eprofile_id": "12ab", "reason": "Married name, ID checked."})
    assert bad_id.status_code == 400 and "6 to 10 digits" in bad_id.text
    spoofed = post_form(admin, f"/admin/credits/{credit.id}/name",
                        {"name": "Ana \u202ehtimS", "nabp_eprofile_id": "", "reason": "Married name, ID checked."})
    assert spoofed.status_code == 400 and "text-direction control character U+202E" in spoofed.text
    assert fresh(credit).holder_name == REAL and db.session.query(CreditNameCorrection).count() == 0
    done = post_form(admin, f"/admin/credits/{credit.id}/name",
                     {"name": "Ana Real-Smith", "nabp_eprofile_id": "1234567",
                      "reason": "Married name; marriage certificate seen."})
    assert done.status_code == 302
    credit = fresh(credit)
    assert credit.holder_name == "Ana Real-Smith" and credit.verification_code == code
    page = app.test_client().get(f"/verify/{credit.verification_code}").text
    assert "Ana Real-Smith" in page and IMPOSTOR not in page
    text = flat(pdf_text(client.get(f"/credits/{credit.id}/certificate.pdf").data, tmp_path))
    assert "Ana Real-Smith" in text
    correction = db.session.scalar(select(CreditNameCorrection))
    assert (correction.old_name, correction.new_name, correction.reason) == (
        REAL, "Ana Real-Smith", "Married name; marriage certificate seen.")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "credit.name_corrected"))
    assert event.target_id == credit.id and event.details["old_name"] == REAL
    assert event.details["new_name"] == "Ana Real-Smith"
    history = admin.get(f"/admin/credits/{credit.id}/name").text
    assert REAL in history and "Married name; marriage certificate seen." in history
    assert trainee.id == credit.user_id


def test_only_an_admin_can_reissue_under_another_name(app, client):
    trainee, supervisor, _cohort, credit = earned_then_renamed(app, client)
    for user in (trainee, supervisor):
        other = app.test_client()
        login(other, user)
        response = post_form(other, f"/admin/credits/{credit.id}/name",
                             {"name": IMPOSTOR, "nabp_eprofile_id": "", "reason": "I changed my name."})
        assert response.status_code == 403
    assert fresh(credit).holder_name == REAL and db.session.query(CreditNameCorrection).count() == 0
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "credit.name_corrected")) is None

"""The completion rule: lessons read + post-test passed + evaluation -> exactly one credit, at that moment."""

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import AuditEvent
from lms.certificates.codes import ALPHABET, normalize_code
from lms.content.services import get_catalog
from lms.db import utcnow
from lms.extensions import db
from lms.progress.models import ActivityEvaluation, Credit, CreditStatusEvent
from tests.conftest import create_cohort, create_user, fresh, login, post_form
from tests.quizzes.test_attempts import answer, start

EVALUATION = {"objective_o1": "yes", "objective_o2": "yes", "objective_o3": "no", "relevance": "4",
              "free_of_bias": "yes", "minutes_spent": "35", "comments": "Useful."}


def read_all(client, module="alpha"):
    for lesson in get_catalog().module(module).lessons:
        post_form(client, f"/modules/{module}/{lesson.id}/read")


def pass_post_test(client, right=True):
    attempt = start(client)
    for position in range(1, len(attempt.item_ids) + 1):
        answer(client, attempt, position, right=right)
    post_form(client, f"/attempts/{attempt.id}/submit")
    return fresh(attempt)


def revoke_credit(credit, admin, reason="Issued in error."):
    """Revoke through the service, as the admin's page does, and commit."""
    from lms.accounts.services import Actor
    from lms.certificates.services import revoke

    event = revoke(db.session, Actor(admin.id, "127.0.0.1"), credit, reason, utcnow(), link="/modules/alpha")
    db.session.commit()
    return event


def complete(client):
    read_all(client)
    pass_post_test(client)
    return post_form(client, "/modules/alpha/evaluation", EVALUATION)


def test_credit_is_issued_once_when_the_last_step_is_done(app, client, login_as):
    user = login_as("trainee")
    read_all(client)
    failed = pass_post_test(client, right=False)
    assert failed.passed is False
    assert post_form(client, "/modules/alpha/evaluation", EVALUATION).status_code == 302  # refused: not passed
    assert db.session.query(ActivityEvaluation).count() == 0
    passed = pass_post_test(client)
    assert passed.passed is True and db.session.query(Credit).count() == 0
    before = utcnow()
    response = post_form(client, "/modules/alpha/evaluation", EVALUATION, follow_redirects=True)
    assert "Module complete: 0.5 contact hours earned" in response.text
    credit = db.session.scalar(select(Credit))
    module = get_catalog().module("alpha")
    assert (credit.user_id, credit.module_id, credit.content_version) == (user.id, "alpha", module.content_hash)
    assert credit.contact_hours == 0.5 and credit.ceus == 0.05 and credit.score_percent == 100.0
    assert credit.activity_number == module.activity_number and credit.topic_code == "04"
    assert before - timedelta(seconds=5) <= credit.completed_at <= utcnow()
    assert normalize_code(credit.verification_code) == credit.verification_code


def test_double_submitted_evaluation_yields_one_credit(app, client, login_as):
    login_as("trainee")
    read_all(client)
    pass_post_test(client)
    post_form(client, "/modules/alpha/evaluation", EVALUATION)
    again = post_form(client, "/modules/alpha/evaluation", EVALUATION, follow_redirects=True)
    assert "already evaluated" in again.text
    assert db.session.query(ActivityEvaluation).count() == 1 and db.session.query(Credit).count() == 1


def test_an_evaluation_with_missing_answers_is_refused(app, client, login_as):
    login_as("trainee")
    read_all(client)
    pass_post_test(client)
    incomplete = {k: v for k, v in EVALUATION.items() if k not in ("objective_o2", "minutes_spent")}
    response = post_form(client, "/modules/alpha/evaluation", incomplete)
    assert response.status_code == 400
    assert "Say whether objective 2 was met." in response.text and "Enter the minutes you spent." in response.text
    assert db.session.query(ActivityEvaluation).count() == 0 and db.session.query(Credit).count() == 0


def test_no_partial_credit_without_every_lesson(app, client, login_as):
    login_as("trainee")
    post_form(client, "/modules/alpha/first/read")
    pass_post_test(client)
    response = post_form(client, "/modules/alpha/evaluation", EVALUATION, follow_redirects=True)
    assert "Read every lesson and pass the post-test first" in response.text
    assert db.session.query(Credit).count() == 0


def test_codes_are_60_bit_grouped_and_forgiving():
    from lms.certificates.codes import new_code

    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
        assert not set(code.replace("-", "")) & set("ILOU")
    assert len(ALPHABET) ** 12 >= 2 ** 60
    assert normalize_code(" 7k3m 9qxr-2pwd ") == "7K3M-9QXR-2PWD"
    assert normalize_code("7K3M-9QXR-2PWO") == "7K3M-9QXR-2PW0"  # O read as zero
    assert normalize_code("7K3M-9QXR-2PW") is None and normalize_code("7K3M-9QXR-2PW!") is None


def test_verify_shows_valid_then_revoked_and_only_four_facts(app, client, login_as):
    user = login_as("trainee", name="Siobhán Ó Ceallaigh", nabp_eprofile_id="1234567")
    complete(client)
    credit = db.session.scalar(select(Credit))
    public = app.test_client()
    page = public.get(f"/verify/{credit.verification_code.lower()}")
    assert page.status_code == 200 and "Valid certificate" in page.text and "Siobhán Ó Ceallaigh" in page.text
    assert user.email not in page.text and "1234567" not in page.text
    assert public.get("/verify?code=" + credit.verification_code.replace("-", " ")).status_code == 302
    admin = app.test_client()
    login(admin, create_user("admin"))
    short = post_form(admin, f"/admin/credits/{credit.id}/revoke", {"reason": "x"})
    assert short.status_code == 200 and fresh(credit).revocation is None
    post_form(admin, f"/admin/credits/{credit.id}/revoke", {"reason": "Issued for the wrong trainee."})
    revoked = public.get(f"/verify/{credit.verification_code}").text
    assert "Revoked" in revoked and "revoked on" in revoked
    assert db.session.query(Credit).count() == 1, "a revoked credit stays on record"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "credit.revoked"))
    assert event.details["reason"] == "Issued for the wrong trainee."
    assert [e.action for e in db.session.scalars(select(CreditStatusEvent))] == ["revoked"]


def test_a_mistyped_or_forged_code_says_not_found_and_nothing_else(app, client):
    for code in ("7K3M-9QXR-2PWD", "not-a-code", "<script>", "A" * 300):
        page = client.get(f"/verify/{code}")
        assert page.status_code == 404 and "Not found" in page.text
        assert "<script>" not in page.text


def test_verify_is_rate_limited(app, client):
    statuses = [client.get("/verify/7K3M-9QXR-2PWD").status_code for _ in range(32)]
    assert statuses[:30] == [404] * 30 and statuses[-1] == 429


def test_transcript_filters_by_date_and_totals_by_year(app, client, login_as):
    user = login_as("trainee")
    complete(client)
    credit = db.session.scalar(select(Credit))
    older = Credit(user_id=user.id, module_id="beta", content_version="old", module_version="1.0",
                   activity_title="Beta module", activity_number="0000-0000-24-002-H05-T", activity_type="application",
                   topic_code="05", topics=[], contact_hours=0.25, ceus=0.025, score_percent=80.0,
                   completed_at=credit.completed_at.replace(year=credit.completed_at.year - 2),
                   verification_code="ABCD-EFGH-JKMN")
    db.session.add(older)
    db.session.commit()
    page = client.get("/learning/transcript").text
    assert "Totals by year" in page and "Beta module" in page and "Alpha module" in page
    this_year = credit.completed_at.year
    filtered = client.get(f"/learning/transcript?start={this_year}-01-01").text
    assert "Beta module" not in filtered and "Alpha module" in filtered
    assert client.get("/learning/transcript?start=2026-13-01").status_code == 400
    assert client.get("/learning/transcript?start=2026-05-01&end=2026-04-01").status_code == 400
    rows = list(csv.reader(io.StringIO(client.get("/learning/transcript.csv").text.lstrip("\ufeff"))))
    assert rows[0][0] == "completion_date" and len(rows) == 3
    empty = client.get("/learning/transcript.csv?start=1990-01-01&end=1990-12-31").text.lstrip("\ufeff")
    assert empty.strip().count("\n") == 0 and empty.startswith("completion_date"), "headers only"


def test_requirement_tracker_counts_topic_codes(app, client, login_as):
    login_as("trainee")
    complete(client)
    page = client.get("/learning").text
    assert "All topics</strong>: 0.5 of 20 hours" in page
    assert "Patient safety</strong>: 0 of 1 hours" in page  # alpha is topic 04, not 05


def test_supervisor_exports_only_own_cohort_with_flags(app, client):
    supervisor, other = create_user("supervisor"), create_user("supervisor")
    trainee = create_user("trainee", name="No Profile Id")
    create_cohort("Mine", supervisors=[supervisor], trainees=[trainee])
    theirs = create_cohort("Theirs", supervisors=[other])
    trainee_client = app.test_client()
    login(trainee_client, trainee)
    complete(trainee_client)
    login(client, supervisor)
    mine_id = db.session.scalar(select(db.text("id")).select_from(db.text("cohort")).where(db.text("name = 'Mine'")))
    text = client.get(f"/cohorts/{mine_id}/exports/cpe-monitor.csv").text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["nabp_eprofile_id", "birth_mmdd"] and len(rows) == 2
    assert "missing NABP e-Profile ID" in rows[1][-1]
    assert client.get(f"/cohorts/{theirs.id}/exports/cpe-monitor.csv").status_code == 403
    empty = client.get(f"/cohorts/{mine_id}/exports/cpe-monitor.csv?start=1990-01-01&end=1990-01-31").text
    assert len(list(csv.reader(io.StringIO(empty.lstrip("\ufeff"))))) == 1, "headers only"


def test_certificates_zip_streams_valid_pdfs_and_skips_revoked(app, client):
    import zipfile

    supervisor = create_user("supervisor")
    first, second = create_user("trainee", name="Ana Ferreira"), create_user("trainee", name="Bo Lindqvist")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[first, second])
    for trainee in (first, second):
        trainee_client = app.test_client()
        login(trainee_client, trainee)
        complete(trainee_client)
    revoked = db.session.scalar(select(Credit).where(Credit.user_id == second.id))
    revoke_credit(revoked, create_user("admin"), "Test revocation.")
    login(client, supervisor)
    response = client.get(f"/cohorts/{cohort.id}/exports/certificates.zip")
    assert response.is_streamed and response.headers["X-Certificate-Count"] == "1"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = archive.namelist()
    assert len(names) == 1 and "Ana-Ferreira-alpha" in names[0]
    assert archive.read(names[0]).startswith(b"%PDF-")
    empty = client.get(f"/cohorts/{cohort.id}/exports/certificates.zip?start=1990-01-01&end=1990-01-02")
    assert zipfile.ZipFile(io.BytesIO(empty.get_data())).namelist() == []

"""Bad input answers 4xx with a message and changes nothing; it never answers 500 (issue 11, item 10).

First one regression test per example from the issue, then a property-based walk (hypothesis) of every endpoint in
the URL map as every role with hostile path parameters, query values and form fields.
"""

import os
import random
import re
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, insert, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import Cohort, MembershipRequest, User, UserSession
from lms.content.routes import opened_token
from lms.curricula import services as curricula
from lms.curricula.models import Assignment, Curriculum, CurriculumItem, DueDateExtension
from lms.db import utcnow
from lms.extensions import db
from lms.notifications.models import Notification
from lms.progress.models import Credit, LessonRead
from lms.quizzes.models import AttemptAnswer, QuizAttempt
from lms.quizzes.services import _layout, get_library
from lms.sandbox.core import services as sandbox
from lms.sandbox.core.editors import EDITORS
from lms.sandbox.core.models import AuditEntry, Pocket, Product
from lms.validation import MAX_ID, parse_int
from tests.conftest import PASSWORD, create_cohort, create_user, csrf_token, login, post_form

TICKET = "new-supplier-ndc-not-linked"
TOO_BIG = str(2**63)
TODAY = utcnow().date()


def _credit(user, **fields) -> Credit:
    credit = Credit(user_id=user.id, module_id="alpha", content_version="v1", module_version="1.0",
                    activity_title="Alpha module", activity_number="0000-0000-26-001-H04-T",
                    activity_type="knowledge", topic_code="04", topics=[], contact_hours=0.5, ceus=0.05,
                    score_percent=100.0, completed_at=utcnow(), verification_code="7K3M-9QXR-2PWD", **fields)
    db.session.add(credit)
    db.session.commit()
    return credit


def _curriculum(owner) -> Curriculum:
    curriculum = Curriculum(name="Onboarding", owner_id=owner.id)
    curriculum.items.append(CurriculumItem(position=1, kind="module", ref_id="alpha"))
    db.session.add(curriculum)
    db.session.commit()
    return curriculum


def _quiz_attempt(user) -> QuizAttempt:
    """An open post-test holding every item of the test bank (so matching and ordering items are served)."""
    library, rng = get_library(), random.Random(0)
    items = [i for i in library.items.values() if i.id.startswith("alpha-")]
    attempt = QuizAttempt(user_id=user.id, kind="post_test", source_id="alpha", mode="exam", content_version="test",
                          item_ids=[i.id for i in items], layout={i.id: _layout(i, rng) for i in items}, pass_mark=70)
    db.session.add(attempt)
    db.session.commit()
    return attempt


def _start_sandbox(user):
    instance, _created = sandbox.start_ticket(db.session, user.id, sandbox.get_tickets().get(TICKET), utcnow())
    db.session.commit()
    return instance


def _count(model, **where) -> int:
    db.session.expire_all()
    query = select(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return len(db.session.scalars(query).all())


# --- dates ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/learning/transcript", "/learning/transcript.csv", "/learning/transcript.pdf"])
def test_a_transcript_ending_9999_12_31_is_refused_with_a_message(client, login_as, path):
    user = login_as("trainee")
    _credit(user)
    response = client.get(path, query_string={"end": "9999-12-31"})
    assert response.status_code == 400
    assert "The end date must be between 1900-01-01 and 2199-12-31." in response.text


def test_a_transcript_ending_before_it_starts_shows_the_message_on_the_form(client, login_as):
    login_as("trainee")
    response = client.get("/learning/transcript", query_string={"start": "2026-05-01", "end": "2026-04-01"})
    assert response.status_code == 400
    page = response.text
    assert "Bad request" not in page
    assert '<form method="get" class="filters">' in page and 'aria-invalid="true"' in page
    assert "The end date (2026-04-01) is before the start date (2026-05-01)." in page
    assert 'value="2026-05-01"' in page, "the dates stay as typed"


@pytest.mark.parametrize("suffix", ["", "/cpe-monitor.csv", "/certificates.zip"])
def test_cohort_exports_ending_9999_12_31_are_refused_with_a_message(client, login_as, suffix):
    supervisor = login_as("supervisor")
    trainee = create_user("trainee")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[trainee])
    _credit(trainee)
    response = client.get(f"/cohorts/{cohort.id}/exports{suffix}", query_string={"end": "9999-12-31"})
    assert response.status_code == 400
    assert "must be between 1900-01-01 and 2199-12-31" in response.text


def test_the_api_refuses_a_transcript_ending_9999_12_31(app, client, login_as):
    user = login_as("trainee")
    _credit(user)
    response = client.get("/api/v1/me/transcript", query_string={"end": "9999-12-31"})
    assert response.status_code == 400
    assert response.json["message"] == "end must be between 1900-01-01 and 2199-12-31."


def _supervised_assignment(client, login_as):
    supervisor = login_as("supervisor")
    trainee = create_user("trainee")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[trainee])
    return supervisor, trainee, cohort, _curriculum(supervisor)


def test_a_due_date_of_9999_12_31_is_refused_with_a_message_and_the_calendar_keeps_working(app, client, login_as):
    _supervisor, trainee, cohort, curriculum = _supervised_assignment(client, login_as)
    response = post_form(client, f"/curricula/{curriculum.id}/assign", {
        "assign-target": f"cohort:{cohort.id}", "assign-start_on": TODAY.isoformat(), "assign-due_on": "9999-12-31"})
    assert response.status_code == 400
    assert "Due date must be between 1900-01-01 and 2199-12-31." in response.text
    assert _count(Assignment) == 0
    trainee_client = app.test_client()
    login(trainee_client, trainee)
    assert trainee_client.get("/my/assignments.ics").status_code == 200


def test_an_extension_to_9999_12_31_is_refused_with_a_message(app, client, login_as):
    supervisor, trainee, cohort, curriculum = _supervised_assignment(client, login_as)
    assignment = curricula.assign(db.session, curricula.Actor(supervisor.id), supervisor,
                                  curriculum, cohort.id, None, TODAY, TODAY + timedelta(days=7), utcnow())
    db.session.commit()
    response = post_form(client, f"/assignments/{assignment.id}/extend",
                         {"extend-user_id": str(trainee.id), "extend-due_on": "9999-12-31"}, follow_redirects=True)
    assert response.status_code == 200
    assert "New due date must be between 1900-01-01 and 2199-12-31." in response.text
    assert _count(DueDateExtension) == 0


def test_the_service_and_the_database_refuse_an_out_of_range_due_date(app, login_as):
    supervisor = create_user("supervisor")
    cohort = create_cohort("Main", supervisors=[supervisor])
    curriculum = _curriculum(supervisor)
    actor = curricula.Actor(supervisor.id)
    with pytest.raises(curricula.CurriculumError, match="between 1900-01-01 and 2199-12-31"):
        curricula.assign(db.session, actor, supervisor, curriculum, cohort.id, None, TODAY,
                         TODAY.replace(year=9999, month=12, day=31), utcnow())
    db.session.rollback()
    with pytest.raises(IntegrityError):  # a CHECK constraint: not even a script writing rows directly can store it
        db.session.execute(insert(Assignment).values(
            curriculum_id=curriculum.id, cohort_id=cohort.id, start_on=TODAY,
            due_on=TODAY.replace(year=9999, month=12, day=31), curriculum_version=1, created_by_id=supervisor.id,
            created_at=utcnow()))
        db.session.flush()
    db.session.rollback()


# --- ids in URLs ---------------------------------------------------------------------------------------------------

def test_an_id_of_2_to_the_63_or_more_in_any_url_is_a_404(app, client, login_as):
    """Every ``<int:...>`` segment refuses ids beyond BIGINT (and non-ASCII digits) before any view runs."""
    login_as("admin")
    int_rules = [r for r in app.url_map.iter_rules() if any(
        type(c).__name__ == "BoundedIntConverter" for c in r._converters.values())]
    assert len(int_rules) >= 40
    for rule in int_rules:
        for value in (TOO_BIG, str(MAX_ID + 1), "9" * 30, "٣"):
            url = re.sub(r"<int:[a-z_]+>", quote(value), rule.rule)
            url = re.sub(r"<(?:any\([^)]*\):)?([a-z_]+)>", "down", url)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = post_form(client, url) if method == "POST" else client.get(url)
                assert response.status_code == 404, (method, url, response.status_code)
    assert client.get(f"/admin/users/{MAX_ID}").status_code == 404, "the largest id fits and is simply not found"
    assert MAX_ID == 2**31 - 1, "ids are INTEGER columns (4 bytes on PostgreSQL)"


# --- integers and digits in forms and queries ----------------------------------------------------------------------

def test_parse_int_accepts_only_ascii_digits_in_range():
    assert parse_int("42") == 42 and parse_int(" 7 ") == 7
    assert parse_int("²") is None and parse_int("٣") is None and parse_int("4²") is None
    assert parse_int(TOO_BIG) is None and parse_int(str(2**31)) is None and parse_int("-1") is None
    assert parse_int("9" * 5000) is None
    assert parse_int(str(MAX_ID)) == MAX_ID


@pytest.fixture
def sandbox_trainee(client):
    user = create_user("trainee")
    login(client, user)
    return user, _start_sandbox(user)


def _product_form(drug_id, **overrides):
    return {"drug_id": str(drug_id), "ndc10": "12345-678-90", "labeler": "Acme", "description": "",
            "package_quantity": "10", "package_unit": "EA", "parent_id": "", "units_per_parent": "",
            "specific_gravity": "", "active": "y", "change_request": "", **overrides}


@pytest.mark.parametrize("quantity", ["9" * 30, TOO_BIG, "100001"])
def test_a_huge_package_quantity_is_refused_with_a_message(client, sandbox_trainee, quantity):
    _user, instance = sandbox_trainee
    drug = sandbox.instance_world(db.session, instance, utcnow()).by_key("sb_drug", "ONDA4ODT").id
    before = _count(Product, instance_id=instance.id), _count(AuditEntry, instance_id=instance.id)
    response = post_form(client, f"/sandbox/w/{instance.id}/screens/products/new",
                         _product_form(drug, package_quantity=quantity))
    assert response.status_code == 200
    assert "Enter a whole number from 0 to 100,000." in response.text
    assert (_count(Product, instance_id=instance.id), _count(AuditEntry, instance_id=instance.id)) == before


def test_a_par_of_2_to_the_63_is_refused_with_a_message(client, sandbox_trainee):
    _user, instance = sandbox_trainee
    pocket = db.session.scalars(select(Pocket).where(Pocket.instance_id == instance.id)).first()
    data = {"drug_id": str(pocket.drug_id or ""), "par": TOO_BIG, "minimum": "1", "capacity": "10",
            "blind_count": "y", "active": "y", "change_request": ""}
    response = post_form(client, f"/sandbox/w/{instance.id}/screens/pockets/{pocket.id}", data)
    assert response.status_code == 200
    assert "Enter a whole number from 0 to 5,000." in response.text
    db.session.expire_all()
    assert db.session.get(Pocket, (instance.id, pocket.id)).par == pocket.par


def test_a_superscript_digit_in_a_prefilled_drug_is_ignored(client, sandbox_trainee):
    _user, instance = sandbox_trainee
    response = client.get(f"/sandbox/w/{instance.id}/screens/products/new", query_string={"drug": "²"})
    assert response.status_code == 200
    assert client.get(f"/sandbox/w/{instance.id}/screens/products/new?drug=٣").status_code == 200


def test_a_superscript_digit_as_the_assignment_target_is_a_form_error(app, client, login_as):
    _supervisor, _trainee, _cohort, curriculum = _supervised_assignment(client, login_as)
    response = post_form(client, f"/curricula/{curriculum.id}/assign", {
        "assign-target": "cohort:²", "assign-start_on": TODAY.isoformat(),
        "assign-due_on": (TODAY + timedelta(days=7)).isoformat()})
    assert response.status_code == 400
    assert "Not a valid choice" in response.text
    assert _count(Assignment) == 0


@pytest.mark.parametrize("field, value", [("match", "²"), ("match", TOO_BIG), ("position", "²"),
                                          ("position", "٣")])
def test_a_superscript_digit_in_a_quiz_answer_is_not_saved(client, login_as, field, value):
    user = login_as("trainee")
    attempt = _quiz_attempt(user)
    library = get_library()
    position = next(n for n, item_id in enumerate(attempt.item_ids, 1)
                    if library.items[item_id].type == ("matching" if field == "match" else "ordering"))
    item = library.items[attempt.item_ids[position - 1]]
    size = len(item.pairs) if field == "match" else len(item.sequence)
    data = {"item_id": item.id, **{f"{field}-{i}": "1" for i in range(size)}, f"{field}-0": value}
    response = post_form(client, f"/attempts/{attempt.id}/answer/{position}", data)
    assert response.status_code == 303
    assert "Not saved" in client.get(response.location).text
    assert _count(AttemptAnswer) == 0


@pytest.mark.parametrize("stamp", ["²", "١٢٣٤.abc", "123.é", "٣.٣"])
def test_a_non_ascii_opened_stamp_records_the_read_without_a_time(client, login_as, stamp):
    login_as("trainee")
    response = post_form(client, "/modules/alpha/first/read", {"opened": stamp})
    assert response.status_code == 302
    read = db.session.scalars(select(LessonRead)).one()
    assert read.seconds_on_page is None


def test_a_good_opened_stamp_still_records_the_time(client, login_as):
    login_as("trainee")
    post_form(client, "/modules/alpha/first/read", {"opened": opened_token(utcnow() - timedelta(seconds=90))})
    assert 85 <= db.session.scalars(select(LessonRead)).one().seconds_on_page <= 120


@pytest.mark.parametrize("target", ["//[", "/\\evil.test/", "/ok\x07"])
def test_a_malformed_next_address_after_sign_in_goes_home(client, target):
    user = create_user("trainee")
    response = post_form(client, "/login?" + urlencode({"next": target}), {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert "evil" not in response.location and "[" not in response.location


# --- text ----------------------------------------------------------------------------------------------------------

def test_a_nul_byte_in_a_sandbox_field_is_refused_and_changes_nothing(client, sandbox_trainee):
    _user, instance = sandbox_trainee
    drug = sandbox.instance_world(db.session, instance, utcnow()).by_key("sb_drug", "ONDA4ODT").id
    before = _count(Product, instance_id=instance.id), _count(AuditEntry, instance_id=instance.id)
    response = post_form(client, f"/sandbox/w/{instance.id}/screens/products/new",
                         _product_form(drug, labeler="Acme\x00Pharma"))
    assert response.status_code == 400
    assert "NUL character" in response.text
    assert (_count(Product, instance_id=instance.id), _count(AuditEntry, instance_id=instance.id)) == before


def test_a_control_character_in_a_sandbox_field_is_a_message_on_the_form(client, sandbox_trainee):
    _user, instance = sandbox_trainee
    drug = sandbox.instance_world(db.session, instance, utcnow()).by_key("sb_drug", "ONDA4ODT").id
    before = _count(Product, instance_id=instance.id)
    response = post_form(client, f"/sandbox/w/{instance.id}/screens/products/new",
                         _product_form(drug, labeler="Acme\x1bPharma"))
    assert response.status_code == 200
    assert "Remove the control character U+001B." in response.text
    assert _count(Product, instance_id=instance.id) == before


def _profile(client, name):
    return post_form(client, "/profile", {"name": name, "email": "me@hospital.test", "nabp_eprofile_id": "",
                                          "birth_mmdd": "", "submit": "Save profile"})


@pytest.mark.parametrize("name, status, message", [
    ("Ann\x00Lee", 400, "NUL character"),
    ("Ann\x07Lee", 200, "Remove the control character U+0007."),
    ("Ann \u202eeeL", 200, "Remove the text-direction control character U+202E"),
    ("\u2066Ann\u2069", 200, "Remove the text-direction control character U+2066"),
    ("\u200b\u200b", 200, "Enter a name with visible letters"),
    ("\u3000\u200d\ufeff", 200, "Enter a name with visible letters"),
])
def test_hostile_names_are_refused_with_a_message(client, login_as, name, status, message):
    user = login_as("trainee", name="Ann Lee")
    response = _profile(client, name)
    assert response.status_code == status
    assert message in response.text
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "Ann Lee"


def test_an_nabp_id_in_other_scripts_digits_is_refused(client, login_as):
    user = login_as("trainee")
    response = post_form(client, "/profile", {"name": "Ann Lee", "email": user.email, "nabp_eprofile_id": "١٢٣٤٥٦٧",
                                              "birth_mmdd": "", "submit": "Save profile"})
    assert "An NABP e-Profile ID is 6 to 10 digits." in response.text
    db.session.expire_all()
    assert db.session.get(User, user.id).nabp_eprofile_id is None


def test_names_in_other_scripts_and_with_line_breaks_in_text_areas_are_fine(client, login_as):
    user = login_as("trainee")
    assert _profile(client, "Zoë Ångström-王").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "Zoë Ångström-王"


def test_cohort_and_curriculum_names_refuse_bidi_overrides(client, login_as):
    admin = login_as("admin")
    response = post_form(client, "/cohorts/new", {"name": "Main\u202e", "description": "a\nb",
                                                         "supervisor_id": str(admin.id)})
    assert "Remove the text-direction control character U+202E" in response.text
    assert _count(Cohort) == 0
    response = post_form(client, "/curricula", {"name": "\u200b"})
    assert "Enter a name with visible letters" in response.text
    assert _count(Curriculum) == 0


# --- the walk: every endpoint, every role, hostile input -----------------------------------------------------------

HOSTILE = st.one_of(
    st.sampled_from(["", " ", "0", "-1", "²", "٣", "1²", "1e309", "nan", "inf", TOO_BIG, str(MAX_ID), "9" * 30,
                     "9" * 5000, str(-2**63 - 1), "9999-12-31", "0001-01-01", "2026-02-30", "2026-13-01",
                     "\x00", "a\x00b", "\x07", "\x1b[31m", "\u202eevil", "\u2066x", "\u200b", "\u3000",
                     "x" * 5000, "' OR 1=1 --", "%00", "cohort:²", "user:" + TOO_BIG, "cohort:-1", "../../etc",
                     "<script>", "\r\n", "true", "on", "y", "None"]),
    st.text(max_size=24),
    st.integers(min_value=-2**70, max_value=2**70).map(str),
)

# Form field names used across the site (with their prefixes), plus every sandbox editor column.
FORM_NAMES = sorted({
    "name", "email", "password", "role", "description", "supervisor_id", "reason", "code", "mode", "answer",
    "item_id", "go", "opened", "submit", "change_request", "nabp_eprofile_id", "birth_mmdd", "relevance",
    "free_of_bias", "minutes_spent", "comments", "objective_o1", "confirm", "new_password", "current_password",
    "pw-current_password", "pw-new_password", "pw-confirm", "token-name", "item-ref", "item-required",
    "item-min_score", "item-expected_minutes", "assign-target", "assign-start_on", "assign-due_on",
    "extend-user_id", "extend-due_on", "match-0", "match-1", "position-0", "position-1", "active",
    "member-email", "title", "risk", "test_plan", "days", "revoke_tokens",
    "message_id", "back_to_message", "channel", "terminators", "message", "order_id", "pharmacist",
    *(f.column for editor in EDITORS.values() for f in editor.fields),
})
QUERY_NAMES = ["start", "end", "page", "q", "n", "drug", "product", "state", "sort", "overdue", "role", "action",
               "code", "data", "cabinet", "patient", "cell", "next", "format", "cohort", "channel", "status", "type",
               "mrn", "control", "sent"]

ROLES = ["anonymous", "trainee", "supervisor", "admin"]
SKIP_ENDPOINTS = {"accounts.logout"}  # ends the session the walk runs in; it takes no input but the CSRF token
# Endpoints whose refusals are recorded on purpose, so "refused input writes nothing" does not apply to them.
RECORDS_REFUSALS = {"accounts.login"}  # a failed sign-in is audited (and counted by the sign-in throttle)


def _world():
    people = {role: create_user(role) for role in ("trainee", "supervisor", "admin")}
    people["bystander"] = create_user("trainee")
    cohort = create_cohort("Main", supervisors=[people["supervisor"]],
                           trainees=[people["trainee"], people["bystander"]])
    credit = _credit(people["trainee"])
    curriculum = _curriculum(people["supervisor"])
    assignment = Assignment(curriculum_id=curriculum.id, cohort_id=cohort.id, start_on=TODAY,
                            due_on=TODAY + timedelta(days=7), curriculum_version=1,
                            created_by_id=people["supervisor"].id)
    db.session.add(assignment)
    db.session.commit()
    notification = Notification(user_id=people["trainee"].id, kind="assigned", assignment_id=assignment.id,
                                dedupe_key="assigned:walk", title="New assignment", link="/my/assignments")
    db.session.add(notification)
    db.session.commit()
    attempt = _quiz_attempt(people["trainee"])
    instance = _start_sandbox(people["trainee"])
    # Another supervisor asks for the supervisor's trainee (a request the supervisor or an admin decides), and
    # the bystander has a signed-in session of their own (that nobody else may end).
    other = create_user("supervisor")
    create_cohort("Other", supervisors=[other])
    request = MembershipRequest(cohort_id=db.session.scalar(select(Cohort.id).where(Cohort.name == "Other")),
                                user_id=people["bystander"].id, requested_by_id=other.id)
    session_row = UserSession(key_hash="0" * 64, user_id=people["bystander"].id, created_at=utcnow(),
                              last_seen_at=utcnow(), user_agent="walk", ip="127.0.0.1")
    db.session.add_all([request, session_row])
    db.session.commit()
    ids = {"cohort_id": cohort.id, "user_id": people["bystander"].id, "credit_id": credit.id,
           "curriculum_id": curriculum.id, "assignment_id": assignment.id, "notification_id": notification.id,
           "attempt_id": attempt.id, "instance_id": instance.id, "item_id": curriculum.items[0].id, "row_id": 1,
           "token_id": 1, "position": 1, "request_id": request.id, "session_id": session_row.id}
    strings = {"module_id": "alpha", "lesson_id": "first", "blueprint_id": "mini", "bank_id": "alpha",
               "code": credit.verification_code, "token": "not-a-real-token", "ticket_id": TICKET,
               "name": "products", "filename": "css/site.css", "action": "down", "decision": "accept"}
    valid_form = {"item_id": attempt.item_ids, "assign-target": [f"cohort:{cohort.id}"],
                  "extend-user_id": [str(people["trainee"].id)], "supervisor_id": [str(people["supervisor"].id)],
                  "assign-start_on": [TODAY.isoformat()], "assign-due_on": [TODAY.isoformat()],
                  "item-ref": ["module:alpha"], "drug_id": ["1"], "product_id": ["1"], "channel": ["RX-IN"],
                  "message_id": ["1"], "order_id": ["1"], "pharmacist": ["rph.okafor"], "terminators": ["lf"]}
    return people, {**{k: str(v) for k, v in ids.items()}, **strings}, valid_form


class CommittedWrites:
    """Every INSERT, UPDATE or DELETE the app's engine commits while installed (rolled-back ones do not count).

    Cheaper and stricter than comparing table fingerprints before and after each request: it sees an UPDATE of any
    row in any table, including the sandbox copies' large world tables.
    """

    def __init__(self, engine):
        self.engine, self.pending, self.committed = engine, [], []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._execute)
        event.listen(self.engine, "commit", self._commit)
        event.listen(self.engine, "rollback", self._rollback)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._execute)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)

    def _execute(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.pending.append(statement.split("(")[0][:60])

    def _commit(self, conn):
        self.committed.extend(self.pending)
        self.pending = []

    def _rollback(self, conn):
        self.pending = []

    def take(self) -> list[str]:
        taken, self.committed = self.committed, []
        return taken


def test_the_write_detector_sees_committed_changes_and_ignores_rolled_back_ones(app, client, login_as):
    """The walk's "refused input changes nothing" check would notice a write."""
    login_as("trainee")
    with CommittedWrites(db.engine) as writes:
        writes.take()
        post_form(client, "/modules/alpha/first/read", {"opened": ""})
        assert any(w.startswith("INSERT INTO lesson_read") for w in writes.take())
        db.session.add(Cohort(name="rolled back"))
        db.session.flush()
        db.session.rollback()
        assert writes.take() == []


def _refused(method: str, response) -> bool:
    if 400 <= response.status_code < 500:
        return True
    return method == "POST" and response.status_code == 200 and 'aria-invalid="true"' in response.text


_SEGMENT = re.compile(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>")


def _walker(client, token, rule, path_values, form_value, writes):
    """A hypothesis test of one rule: hostile path segments, query values and form fields, GET and POST."""
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    segment = st.one_of(HOSTILE.filter(bool), st.text(min_size=1, max_size=12))
    names = [hit.group(2) for hit in _SEGMENT.finditer(rule.rule)]

    @settings(max_examples=EXAMPLES_PER_RULE, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(path=st.fixed_dictionaries({n: st.one_of(st.just(path_values[n]), segment) for n in names}),
           query=st.dictionaries(st.one_of(st.sampled_from(QUERY_NAMES), st.text(max_size=8)), HOSTILE, max_size=3),
           form=st.lists(st.sampled_from(FORM_NAMES), max_size=6, unique=True).flatmap(
               lambda keys: st.fixed_dictionaries({k: form_value[k] for k in keys})),
           method=st.sampled_from(methods))
    def walk(path, query, form, method):
        url = _SEGMENT.sub(lambda hit: quote(path[hit.group(2)], safe=""), rule.rule)
        writes.take()
        if method == "POST":
            response = client.post(url, query_string=query, data={**form, "csrf_token": token})
        else:
            response = client.get(url, query_string=query)
        body = response.get_data()  # streamed bodies (the certificate ZIP) run to the end here
        response.close()
        assert response.status_code < 500, (method, url, query, form, body[:300])
        written = writes.take()
        if _refused(method, response) and rule.endpoint not in RECORDS_REFUSALS:
            assert written == [], f"{method} {url} {query} {form} answered {response.status_code} but wrote {written}"

    return walk


# Eight per rule keep the whole walk near 30 s per database; search harder locally: LMS_HOSTILE_EXAMPLES=50 pytest ...
EXAMPLES_PER_RULE = int(os.environ.get("LMS_HOSTILE_EXAMPLES", "8"))


@pytest.mark.parametrize("role", ROLES)
def test_hostile_input_never_answers_5xx_and_refused_input_changes_nothing(app, role):
    """Every rule of the URL map, as this role: no 5xx, and a refusal (4xx or a form with errors) writes nothing."""
    people, path_values, valid_form = _world()
    client = app.test_client()
    if role != "anonymous":
        login(client, people[role])
    token = csrf_token(client)
    form_value = {name: st.one_of(st.sampled_from(valid_form[name]), HOSTILE) if name in valid_form else HOSTILE
                  for name in FORM_NAMES}
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint not in SKIP_ENDPOINTS),
                   key=lambda r: (r.rule, r.endpoint))
    assert len(rules) > 90
    with CommittedWrites(db.engine) as writes:
        for rule in rules:
            _walker(client, token, rule, path_values, form_value, writes)()

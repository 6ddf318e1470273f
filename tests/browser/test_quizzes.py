"""Real-browser quiz runs: a post-test failed then passed, and a timed practice exam the server ends."""

from datetime import timedelta

from lms.config import PROJECT_ROOT
from lms.content.loader import load_catalog
from lms.db import utcnow
from lms.extensions import db
from lms.quizzes.bank import load_library
from lms.quizzes.grading import correct_response
from lms.quizzes.models import QuizAttempt
from tests.browser.conftest import live_server_app, sign_in

LIBRARY = load_library(PROJECT_ROOT / "quizzes", load_catalog(PROJECT_ROOT / "content"))


def answer_current_question(page, right: bool):
    """Fill in the question on screen the way a trainee would, right or wrong."""
    item = LIBRARY.items[page.locator("input[name=item_id]").input_value()]
    target = correct_response(item)
    if item.type == "single":
        choice = target if right else next(o.id for o in item.options if o.id != target)
        page.locator(f"#opt-{choice}").check()
    elif item.type == "multiple":
        chosen = target if right else [next(o.id for o in item.options if o.id not in target)]
        for option_id in chosen:
            page.locator(f"#opt-{option_id}").check()
    elif item.type == "true_false":
        page.locator(f"#tf-{'true' if target == right else 'false'}").check()
    elif item.type in ("numeric", "short"):
        page.locator("#answer").fill(target if right else "12345")
    elif item.type == "matching":
        for index, (_left, right_text) in enumerate(item.pairs):
            options = page.locator(f"#match-{index} option")
            texts = [options.nth(i).inner_text() for i in range(1, options.count())]
            wanted = right_text if right else next(t for t in texts if t != right_text)
            page.locator(f"#match-{index}").select_option(label=wanted)
    elif item.type == "ordering":
        count = len(item.sequence)
        for index in range(count):
            label = page.locator(f"label[for=position-{index}]").inner_text()
            position = item.sequence.index(label) + 1
            page.locator(f"#position-{index}").select_option(str(position if right else count + 1 - position))


def take_post_test(page, live_server, module_id: str, right: bool) -> str:
    page.goto(f"{live_server}/modules/{module_id}")
    page.get_by_role("button", name="Take the post-test").click()
    total = int(page.locator("#q-h").inner_text().rsplit(" ", 1)[1])
    for _ in range(total):
        answer_current_question(page, right)
        page.locator("form[action*='/answer/'] button[type=submit]").first.click()
    page.get_by_role("button", name="Submit my answers").click()
    return page.locator(".result-summary").inner_text()


def test_post_test_failed_then_passed(page, live_server, axe_check):
    sign_in(page, live_server, "siobhan.oconnor@demo.test")
    page.wait_for_url(f"{live_server}/home")
    failed = take_post_test(page, live_server, "hl7-interfaces", right=False)
    assert "Not passed" in failed and "0%" in failed
    assert axe_check(page) == []
    page.get_by_role("button", name="Try the post-test again").click()
    page.goto(f"{live_server}/modules/hl7-interfaces")
    passed = take_post_test(page, live_server, "hl7-interfaces", right=True)
    assert "Passed" in passed and "100%" in passed
    page.goto(f"{live_server}/quizzes")
    assert "passed" in page.locator("main").inner_text()
    assert axe_check(page) == []


def test_timed_practice_exam_is_ended_by_the_server(page, live_server):
    sign_in(page, live_server, "tom.nguyen@demo.test")
    page.wait_for_url(f"{live_server}/home")
    page.goto(f"{live_server}/quizzes")
    page.get_by_role("button", name="Start Pharmacy informatics technician practice exam").click()
    assert page.locator(".timer").is_visible()
    answer_current_question(page, right=True)
    page.get_by_role("button", name="Save and continue").click()
    app = live_server_app[0]
    with app.app_context():  # fast-forward the clock: the deadline passed a minute ago
        attempt = db.session.scalars(db.select(QuizAttempt).where(QuizAttempt.kind == "practice_exam",
                                                                 QuizAttempt.status == "in_progress")).one()
        attempt.deadline_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    answer_current_question(page, right=True)
    page.get_by_role("button", name="Save and continue").click()
    assert "Time ran out" in page.locator(".flashes").inner_text()
    summary = page.locator(".result-summary").inner_text()
    assert "2%" in summary and "Time ran out" in summary  # 1 of 50 answered in time

"""Real browser: a supervisor builds and assigns a curriculum; a trainee completes an item; the dashboard moves."""

import re
from datetime import timedelta

from lms.db import utcnow
from tests.browser.conftest import sign_in
from tests.browser.test_quizzes import take_post_test


def complete_module(page, live_server, module: str) -> None:
    page.goto(f"{live_server}/modules/{module}")
    while page.get_by_role("link", name="Continue:").count() or page.get_by_role("link", name="Start:").count():
        page.get_by_role("link", name="Continue:").or_(page.get_by_role("link", name="Start:")).first.click()
        while page.get_by_role("button", name="Mark as read and continue").count():
            page.get_by_role("button", name="Mark as read and continue").click()
        page.goto(f"{live_server}/modules/{module}")
    assert "Passed" in take_post_test(page, live_server, module, right=True)
    page.goto(f"{live_server}/modules/{module}/evaluation")
    for group in page.locator("[role=radiogroup]").all():
        group.locator("input").first.check()
    page.get_by_label("How many minutes did you actually spend on this activity?").fill("90")
    page.get_by_role("button", name="Submit evaluation").click()
    assert "Module complete" in page.locator(".flashes").inner_text()


def dashboard_row(page, live_server, name: str) -> str:
    page.goto(f"{live_server}/dashboard")
    return page.locator("tr", has_text=name).inner_text()


def test_supervisor_assigns_trainee_completes_dashboard_shows_it(page, live_server, axe_check):
    sign_in(page, live_server, "supervisor@demo.test")
    page.wait_for_url(f"{live_server}/home")
    page.goto(f"{live_server}/curricula")
    page.get_by_label("Name").fill("Barcode readiness")
    page.get_by_role("button", name="Create curriculum").click()
    for label in ("Module: The pharmacy informatics technician role", "Module: BCMA and machine-readable technology"):
        page.get_by_label("Item", exact=True).select_option(label=label)
        page.get_by_role("button", name="Add item").click()
    assert axe_check(page) == []
    page.get_by_label("Assign to").select_option(label="Cohort: Main Pharmacy")
    today = utcnow().date()
    page.get_by_label("Start date").fill(today.isoformat())
    page.get_by_label("Due date").fill((today + timedelta(days=10)).isoformat())
    page.get_by_role("button", name="Assign", exact=True).click()
    assert "Assigned." in page.locator(".flashes").inner_text()
    before = dashboard_row(page, live_server, "Barcode readiness")
    assert axe_check(page) == []
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, "dmitri.volkov@demo.test")
    page.wait_for_url(f"{live_server}/home")
    page.goto(f"{live_server}/my/assignments")
    assert "0 of 2 required items done" in page.locator("section", has_text="Barcode readiness").inner_text()
    assert axe_check(page) == []
    complete_module(page, live_server, "informatics-role")
    page.goto(f"{live_server}/my/assignments")
    assert "1 of 2 required items done" in page.locator("section", has_text="Barcode readiness").inner_text()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, "supervisor@demo.test")
    page.wait_for_url(f"{live_server}/home")
    after = dashboard_row(page, live_server, "Barcode readiness")
    percent = lambda row: int(re.search(r"(\d+)%", row).group(1))  # noqa: E731
    # Main Pharmacy has 4 trainees x 2 items; two already held the role credit (2/8), Dmitri adds one (3/8).
    assert (percent(before), percent(after)) == (25, 38), (before, after)

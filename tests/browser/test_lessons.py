"""Real-browser checks of the learning pages: accessibility, reading a lesson, phone width."""

import pytest

from tests.browser.conftest import sign_in


@pytest.mark.parametrize("path", [
    "/modules",
    "/modules?q=blind+count",
    "/modules/bcma-barcodes",
    "/modules/bcma-barcodes/ndc-and-gtin",
    "/modules/hl7-interfaces/hl7-message-anatomy",
    "/glossary",
])
def test_learning_pages_have_no_serious_accessibility_violations(page, live_server, axe_check, path):
    sign_in(page, live_server, "dmitri.volkov@demo.test")
    page.wait_for_url(f"{live_server}/home")
    page.goto(f"{live_server}{path}")
    assert page.locator("h1").count() == 1
    assert axe_check(page) == []


def test_trainee_reads_a_lesson_and_progress_moves(page, live_server, screenshots_dir):
    """Open the next lesson from home, mark it read (double click), and see the progress bar move."""
    sign_in(page, live_server, "noa.cohen@demo.test")
    page.wait_for_url(f"{live_server}/home")
    page.get_by_role("link", name="Continue").click()
    title = page.locator("h1").inner_text()
    assert page.get_by_role("navigation", name="On this page").is_visible()
    page.get_by_role("button", name="Mark as read and continue").dblclick()
    page.wait_for_load_state()
    assert f"Marked “{title}” as read." in page.locator(".flashes").inner_text()
    page.goto(f"{live_server}/modules/informatics-role")
    assert "1 of 4 lessons read" in page.locator("main").inner_text()
    page.screenshot(path=str(screenshots_dir / "module-overview.png"), full_page=True)


def test_lesson_is_readable_at_phone_width(page, live_server, screenshots_dir):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server, "chen.wei@demo.test")
    page.wait_for_url(f"{live_server}/home")
    page.goto(f"{live_server}/modules/hl7-interfaces/hl7-message-anatomy")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, "wide tables and code must scroll inside their box, not the page"
    page.screenshot(path=str(screenshots_dir / "lesson-360.png"))

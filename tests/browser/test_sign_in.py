"""Real-browser checks: each demo role signs in through the form; pages pass axe-core."""

import pytest

from tests.browser.conftest import sign_in

HOMES = {
    "trainee@demo.test": "Continue learning",
    "supervisor@demo.test": "Your cohorts",
    "admin@demo.test": "Recent activity",
}


@pytest.mark.parametrize("email", list(HOMES))
def test_demo_role_signs_in_and_sees_its_home(page, live_server, email):
    sign_in(page, live_server, email)
    page.wait_for_url(f"{live_server}/home")
    assert page.get_by_role("heading", name=HOMES[email]).is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/login")


def test_wrong_password_shows_a_clear_message(page, live_server):
    sign_in(page, live_server, "trainee@demo.test", "wrong password here")
    assert page.get_by_role("alert").inner_text() == "Email or password is incorrect."


def test_supervisor_sees_only_own_cohort(page, live_server):
    sign_in(page, live_server, "supervisor2@demo.test")
    page.wait_for_url(f"{live_server}/home")
    body = page.locator("main").inner_text()
    assert "Satellite Pharmacy" in body and "Main Pharmacy" not in body


def test_keyboard_only_sign_in_and_skip_link(page, live_server):
    """Sign in with the keyboard alone; the first Tab on a page reaches the skip link."""
    page.goto(f"{live_server}/login")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type("trainee@demo.test")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-password")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/home")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize(("email", "path"), [
    (None, "/login"),
    ("trainee@demo.test", "/home"),
    ("supervisor@demo.test", "/home"),
    ("admin@demo.test", "/home"),
    ("admin@demo.test", "/admin/users"),
    ("admin@demo.test", "/admin/audit"),
    ("trainee@demo.test", "/profile"),
    ("trainee@demo.test", "/learning"),
    ("trainee@demo.test", "/learning/transcript"),
    ("trainee@demo.test", "/quizzes"),
    ("supervisor@demo.test", "/quizzes/stats/informatics-role"),
    ("supervisor@demo.test", "/cohorts/1/exports"),
    ("admin@demo.test", "/admin/credits"),
    (None, "/verify"),
    (None, "/verify/0000-0000-0000"),
])
def test_pages_have_no_serious_accessibility_violations(page, live_server, axe_check, email, path):
    if email:
        sign_in(page, live_server, email)
        page.wait_for_url(f"{live_server}/home")
    page.goto(f"{live_server}{path}")
    assert axe_check(page) == []


def test_layout_works_at_phone_width(page, live_server, screenshots_dir):
    """At 360 px nothing overflows sideways and the navigation stays reachable."""
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server, "admin@demo.test")
    page.wait_for_url(f"{live_server}/home")
    page.goto(f"{live_server}/admin/users")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert page.get_by_role("link", name="Users").is_visible()
    page.screenshot(path=str(screenshots_dir / "admin-users-360.png"), full_page=True)

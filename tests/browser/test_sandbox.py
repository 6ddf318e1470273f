"""Real browser: a trainee works a sandbox ticket through the screens, tries a symptom fix, then solves it."""

from tests.browser.conftest import live_server_app, sign_in

TICKET = "Ticket 9: ED could not pull naloxone for a suspected overdose"


def try_removal(page) -> str:
    page.get_by_role("link", name="Scan and replay tools").click()
    form = page.locator("section", has_text="Try a cabinet removal")
    form.get_by_label("Cabinet").select_option(label="ED-1")
    form.get_by_label("Drug").select_option(label="naloxone hydrochloride 0.4 mg/mL injection solution (NALOX04)")
    form.get_by_label("Patient").select_option(label="Dolores Whitaker (E300552)")
    form.get_by_role("button", name="Try removal").click()
    return page.locator("section", has_text="Try a cabinet removal").locator("[role=status]").inner_text()


def test_trainee_solves_a_ticket_through_the_screens(page, live_server, axe_check, screenshots_dir):
    sign_in(page, live_server, "aisha.bello@demo.test")
    page.wait_for_url(f"{live_server}/home")
    page.get_by_role("link", name="Sandbox").click()
    assert axe_check(page) == []
    page.get_by_role("link", name="ED could not pull naloxone for a suspected overdose").click()
    page.get_by_role("button", name="Start this ticket").click()
    assert "Your copy of the pharmacy system is ready" in page.locator(".flashes").inner_text()
    assert TICKET in page.locator("h1").inner_text()
    assert axe_check(page) == []

    # Reproduce the report: the cabinet refuses the removal.
    assert "refused" in try_removal(page) and "not on ED-1's override list" in page.content()
    assert axe_check(page) == []

    # A symptom fix first: take the cabinet out of profiled mode. The removal works, the grader says no.
    page.get_by_role("link", name="Cabinets", exact=True).click()
    page.locator("tr", has_text="ED-1").get_by_role("link", name="Open").click()
    page.get_by_label("Profiled (removal needs a verified order)").uncheck()
    page.get_by_role("button", name="Save").click()
    assert "Saved and recorded in the audit trail." in page.locator(".flashes").inner_text()
    assert "allowed" in try_removal(page)
    page.get_by_role("link", name="Ticket and grading").click()
    page.get_by_role("button", name="Submit for grading").click()
    results = page.locator("#results").inner_text()
    assert "not fixed yet" in results and "Making ED-1 non-profiled" in results

    # Undo it and make the real fix: naloxone back on ED-1's override list with its approval.
    page.get_by_role("link", name="Cabinets", exact=True).click()
    page.locator("tr", has_text="ED-1").get_by_role("link", name="Open").click()
    page.get_by_label("Profiled (removal needs a verified order)").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Override lists").click()
    page.get_by_role("link", name="Add").click()
    page.get_by_label("Cabinet").select_option(label="ED-1")
    page.get_by_label("Drug").select_option(label="naloxone hydrochloride 0.4 mg/mL injection solution (NALOX04)")
    page.get_by_role("button", name="Save").click()  # no approval reference: refused, nothing saved
    assert "Approval reference is required." in page.locator(".form-summary").first.inner_text()
    assert axe_check(page) == []
    page.get_by_label("Approval reference").fill("P&T-2025-031")
    page.get_by_role("button", name="Save").click()
    assert "Saved to override lists" in page.locator(".flashes").inner_text()
    assert "allowed" in try_removal(page)

    page.get_by_role("link", name="Ticket and grading").click()
    page.get_by_role("button", name="Submit for grading").click()
    assert "Solved" in page.locator(".flashes").inner_text()
    assert "✗" not in page.locator("#results .check-results").inner_text()
    page.screenshot(path=str(screenshots_dir / "sandbox-solved.png"), full_page=True)

    page.get_by_role("link", name="Audit trail").click()
    audit = page.locator("table").inner_text()
    assert "Aisha Bello" in audit and "P&T-2025-031" in audit
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("link", name="Cabinet pockets").click()
    page.screenshot(path=str(screenshots_dir / "sandbox-phone.png"), full_page=False)
    # Wide tables scroll inside their own box; the page itself does not scroll sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.goto(f"{live_server}/sandbox/")
    assert "solved" in page.locator("tr", has_text="ED could not pull naloxone").inner_text()


def test_supervisor_reviews_a_trainees_attempt(page, live_server, axe_check):
    sign_in(page, live_server, "supervisor@demo.test")
    page.wait_for_url(f"{live_server}/home")
    page.goto(f"{live_server}/sandbox/")
    page.get_by_role("link", name="Your trainees' attempts").click()
    section = page.locator("section", has_text="Jordan Lee")
    with live_server_app[0].app_context():
        from lms.sandbox.core.services import get_tickets

        shipped = len(get_tickets().tickets)
    assert f"1 of {shipped} tickets solved" in section.inner_text()
    assert axe_check(page) == []
    section.get_by_role("link", name="9. ED could not pull naloxone for a suspected overdose").click()
    assert "Submission 2" in page.content() and "solved" in page.locator("h3").first.inner_text()
    assert "P&T-2025-031" in page.locator("table").inner_text()
    assert axe_check(page) == []


def test_trainee_raises_a_change_request_and_quotes_it_under_change_control(page, live_server, axe_check):
    sign_in(page, live_server, "dmitri.volkov@demo.test")
    page.wait_for_url(f"{live_server}/home")
    page.goto(f"{live_server}/sandbox/")
    page.get_by_role("link", name="Robot restock refused after the pantoprazole supplier change").click()
    page.get_by_role("button", name="Start this ticket").click()

    # Under change control a save without a change request is refused, with the reason on the field.
    page.get_by_role("link", name="Robot item master").click()
    page.locator("tr", has_text="R-021").get_by_role("link", name="Open").click()
    page.get_by_role("button", name="Save").click()
    assert "under change control" in page.locator(".form-summary").first.inner_text()

    page.get_by_role("navigation", name="Pharmacy system screens").get_by_role("link", name="Change requests").click()
    assert "CR-2026-0155" in page.locator("table").inner_text()
    assert axe_check(page) == []
    page.get_by_role("link", name="Raise a change request").click()
    page.get_by_label("Title").fill("Relink the pantoprazole robot cell")
    page.get_by_label("Reason for the change").fill("The robot refuses the new supplier's bottles.")
    page.get_by_label("Risk and back-out plan").fill("Low: one cell; restore the old link from the audit trail.")
    page.get_by_label("Test plan").fill("Replay a restock with a new bottle and a pick from the cell; both accepted.")
    assert axe_check(page) == []
    page.get_by_role("button", name="Submit for approval").click()
    assert "Change Advisory Board (simulated)" in page.locator(".flashes").inner_text()
    assert axe_check(page) == []
    reference = page.locator("h1").inner_text().split(":")[0]

    page.get_by_role("link", name="Robot item master").click()
    page.locator("tr", has_text="R-021").get_by_role("link", name="Open").click()
    page.get_by_label("Change request", exact=True).fill(reference)
    page.get_by_role("button", name="Save").click()
    assert "Saved and recorded in the audit trail." in page.locator(".flashes").inner_text()

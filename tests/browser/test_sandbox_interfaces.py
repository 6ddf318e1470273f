"""Real browser: a trainee finds an AE in the message browser, adds the missing drug map, replays, and sees AA and
the order in the verification queue (issue 12, "Must show")."""

import os
from pathlib import Path

from tests.browser.conftest import sign_in

TICKET = "Ondansetron ODT will not scan since the supplier change"  # ticket 1: no change control
UNMAPPED_RDE = "\n".join([
    "MSH|^~\\&|EHR|RCH|PHARMACY|RCH|20261204080000||RDE^O11^RDE_O11|RX-BROWSER-1|P|2.5.1",
    "PID|1||M200417^^^RCH^MR||Ellison^Robert||19580322|M",
    "PV1|1|I|4W^412^A||||||||||||||||V7003",
    "ORC|NW|ORD-40001|||||||20261204080000",
    "RXE||EHR-99001^pantoprazole 40 mg tablet^EHR|40||MG|TAB",
    "TQ1|1||DAILY",
    "RXR|PO",
])
SHOTS = Path(os.environ.get("LMS_INTERFACE_SCREENSHOTS", "/tmp"))


def shots(page, name: str) -> None:
    """The page at 1280 px and at 375 px (a phone): the page itself never scrolls sideways."""
    for width, height in ((1280, 900), (375, 812)):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")  # relaid
        page.screenshot(path=str(SHOTS / f"interfaces-{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (name, width)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_trainee_fixes_an_unmapped_drug_code_and_replays_the_order(page, live_server, axe_check):
    sign_in(page, live_server, "maria.garcia@demo.test")
    page.wait_for_url(f"{live_server}/home")
    page.goto(f"{live_server}/sandbox/")
    page.get_by_role("link", name=TICKET).click()
    page.get_by_role("button", name="Start this ticket").click()
    nav = page.get_by_role("navigation", name="Pharmacy system screens")

    # The EHR sends an order whose give code the pharmacy has no map for (pasted: the browser sends CR LF).
    nav.get_by_role("link", name="Send a test message").click()
    page.get_by_label("Channel").select_option("RX-IN")
    page.get_by_label("HL7 message").fill(UNMAPPED_RDE)
    assert axe_check(page) == []
    page.get_by_role("button", name="Send").click()
    result = page.locator(".test-result").inner_text()
    assert "ACK AE for RX-BROWSER-1" in result and "EHR-99001" in result

    # The message browser shows it in error, AE.
    nav.get_by_role("link", name="Message browser").click()
    page.get_by_label("Status").select_option("error")
    page.get_by_role("button", name="Filter").click()
    row = page.locator("tr", has_text="RX-BROWSER-1")
    assert "AE" in row.inner_text() and "M200417" in row.inner_text()
    assert axe_check(page) == []
    shots(page, "browser")

    # Its detail: the 103 at RXE^1^2 in the ACK's ERR table, and the give code named in the parsed tree.
    row.get_by_role("link", name="RX-BROWSER-1").click()
    errors = page.locator(".err-table").inner_text()
    assert "103" in errors and "Table value not found" in errors and "RXE^1^2" in errors
    assert "Give Code" in page.locator(".hl7-field.has-issue").inner_text()
    assert page.locator("textarea").count() == 0, "the raw text is never editable"
    assert axe_check(page) == []
    shots(page, "detail")

    # The fix: the missing drug map, on the code-map screen.
    nav.get_by_role("link", name="Code maps").click()
    page.get_by_role("link", name="Add").click()
    page.get_by_label("Channel").select_option(label="RX-IN")
    page.get_by_label("Code type").select_option("drug")
    page.get_by_label("External code (as the sender sends it)").fill("EHR-99001")
    page.get_by_label("Internal code").fill("PANT40T")
    page.get_by_role("button", name="Save").click()
    assert "Saved to code maps" in page.locator(".flashes").inner_text()
    assert "retired" not in page.locator(".row-facts").inner_text(), "a new map starts active"

    # Replay it from the browser: AA, and the order waits for the pharmacist.
    nav.get_by_role("link", name="Message browser").click()
    page.get_by_label("Select RX-BROWSER-1").check()
    page.get_by_role("button", name="Replay selected").click()
    assert "RX-BROWSER-1 AE → AA" in page.locator(".flashes").inner_text()
    assert "processed · AA" in page.locator("tr", has_text="RX-BROWSER-1").inner_text()
    page.locator("tr", has_text="RX-BROWSER-1").get_by_role("link", name="RX-BROWSER-1").click()
    assert "replayed" in page.locator("#hist-h + *").inner_text()

    nav.get_by_role("link", name="Verification queue").click()
    queued = page.locator("tr", has_text="ORD-40001").inner_text()
    assert "waiting" in queued and "Robert Ellison" in queued and "pantoprazole" in queued.lower()
    assert axe_check(page) == []

"""The whole CE path in a real browser: read, fail, pass, evaluate, download, verify by QR, revoke."""

import shutil
import subprocess

import pytest

from tests.browser.conftest import sign_in
from tests.browser.test_quizzes import take_post_test

TOOLS = ("pdftotext", "pdftoppm", "zbarimg")


@pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                    reason="poppler-utils and zbar-tools are needed (apt-get install poppler-utils zbar-tools)")
def test_trainee_earns_verifies_and_loses_a_certificate(page, live_server, tmp_path, axe_check):
    module = "reports-data-analysis"
    sign_in(page, live_server, "noa.cohen@demo.test")
    page.wait_for_url(f"{live_server}/home")
    page.goto(f"{live_server}/modules/{module}")
    page.get_by_role("link", name="Start:").click()
    while True:
        page.get_by_role("button", name="Mark as read and continue").click()
        if "/modules/reports-data-analysis/" not in page.url:
            break
    assert "4 of 4 lessons read" in page.locator("main").inner_text()
    assert "Not passed" in take_post_test(page, live_server, module, right=False)
    assert "Passed" in take_post_test(page, live_server, module, right=True)
    page.goto(f"{live_server}/modules/{module}")
    page.get_by_role("link", name="Evaluate the activity to earn credit").click()
    assert axe_check(page) == []
    for group in page.locator("[role=radiogroup]").all():
        group.locator("input").first.check()
    page.get_by_label("How many minutes did you actually spend on this activity?").fill("130")
    page.get_by_role("button", name="Submit evaluation").click()
    assert "Module complete" in page.locator(".flashes").inner_text()
    assert axe_check(page) == []

    row = page.locator("tr", has_text="Reports and data analysis").first
    code = row.locator("td.mono").inner_text().strip()
    with page.expect_download() as info:
        row.get_by_role("link", name="PDF").click()
    pdf = tmp_path / "certificate.pdf"
    info.value.save_as(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for expected in ("Noa Cohen", "0000-0000-26-012-H04-T", "contact hours", code):
        assert expected in text, expected
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(pdf), str(tmp_path / "page")], check=True)
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "page.png")], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert decoded.endswith(f"/verify/{code}")
    page.goto(decoded)
    assert "Valid certificate" in page.locator("main").inner_text()

    page.goto(f"{live_server}/home")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, "admin@demo.test")
    page.wait_for_url(f"{live_server}/home")
    page.goto(f"{live_server}/admin/credits?q={code}")
    page.get_by_role("link", name="revoke…").click()
    page.get_by_label("Reason for revoking").fill("Demonstration of revocation.")
    page.get_by_role("button", name="Revoke credit").click()
    page.goto(f"{live_server}/verify/{code}")
    assert "This certificate was revoked on" in page.locator("main").inner_text()

"""Browser tests: Debian's Chromium driven by Playwright against the app on a local port."""

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from lms.config import PROJECT_ROOT
from lms.content.services import get_catalog
from lms.demo.services import seed_demo
from lms.extensions import db
from lms.quizzes.services import get_library
from tests.conftest import TEST_DATABASE_URL, make_app, reset_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).resolve().parents[2] / ".cache/node/node_modules/axe-core/axe.min.js"

if not Path(CHROMIUM).exists():
    pytestmark = pytest.mark.skip(reason=f"{CHROMIUM} not found (apt-get install chromium); CI installs it")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # axe-core is injected as a script tag, which the site's CSP (rightly) forbids.
    return {**browser_context_args, "bypass_csp": True}


def closing_bodies(app):
    """Read each response body whole and close it before the dev server sends a byte.

    werkzeug's dev server drains the request socket in a ``finally`` before it calls the
    response's ``close()``; when the browser drops a connection (a favicon or stylesheet
    cancelled by navigation) that drain raises, the static file is never closed, and
    pytest reports its ResourceWarning against whichever test is running.
    """
    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()
    return wsgi


live_server_app = []  # the app behind live_server, for tests that need to reach into its data


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app with demo data, served on a free port in a background thread."""
    tmp = tmp_path_factory.mktemp("live")
    url = TEST_DATABASE_URL or f"sqlite:///{tmp / 'live.sqlite3'}"
    # The real curriculum, so lesson pages are audited with real tables, callouts and links.
    # Every browser test signs in from 127.0.0.1, so the per-address throttle is raised here;
    # throttling itself is tested in tests/accounts/test_login.py.
    app = make_app(tmp, SQLALCHEMY_DATABASE_URI=url, SERVER_NAME=None, TESTING=False,
                   CONTENT_DIR=str(PROJECT_ROOT / "content"), QUIZZES_DIR=str(PROJECT_ROOT / "quizzes"),
                   LOGIN_LIMIT_PER_IP="1000 per minute")
    live_server_app.append(app)
    reset_database(app)
    with app.app_context():
        seed_demo(db.session, get_catalog(), get_library())
        db.session.commit()
    server = make_server("127.0.0.1", 0, closing_bodies(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def axe_check():
    """Run axe-core on the page; return serious and critical WCAG 2 A/AA violations."""
    if not AXE.exists():
        pytest.skip("axe-core not installed (make test installs it with npm)")

    def check(page):
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})")
        return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in result["violations"]
                if v["impact"] in ("serious", "critical")]

    return check


def sign_in(page, base_url, email, password="demo-password"):
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def screenshots_dir():
    path = Path(os.environ.get("LMS_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
    path.mkdir(exist_ok=True)
    return path

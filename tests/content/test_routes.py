"""Catalog, overview, lesson pages, mark-as-read, assets, glossary and the admin status page."""

import re
import shutil

from sqlalchemy import select

from lms.content.services import get_catalog
from lms.extensions import db
from lms.progress.models import LessonRead
from tests.conftest import DATA, make_app, post_form, reset_database


def test_catalog_groups_modules_by_category_and_says_numbers_are_illustrative(app, client, login_as):
    login_as("trainee")
    page = client.get("/modules").text
    assert page.index("Testing") < page.index("Alpha module") < page.index("Automation") < page.index("Beta module")
    assert "not an accredited continuing-education provider" in page


def test_search_covers_titles_objectives_and_lesson_text(app, client, login_as):
    login_as("trainee")
    assert "Beta module" in client.get("/modules?q=zanzibar").text  # lesson text only
    hits = client.get("/modules?q=convert+ndc").text  # an objective of alpha
    assert "Alpha module" in hits and "Beta module" not in hits
    assert "Nothing matches" in client.get("/modules?q=no+such+words+anywhere").text


def test_overview_shows_objectives_hours_number_and_progress(app, client, login_as):
    login_as("trainee")
    page = client.get("/modules/alpha").text
    for text in ("Identify the three NDC formats.", "0000-0000-26-001-H04-T", "0.5 (0.05 CEU)",
                 "0 of 2 lessons read", "not an accredited", 'id="ref-ref-one"'):
        assert text in page, text
    assert "Before this module" in client.get("/modules/beta").text


def test_lesson_page_has_toc_and_next_link(app, client, login_as):
    login_as("trainee")
    page = client.get("/modules/alpha/first").text
    assert 'href="#formats"' in page and 'rel="next" href="/modules/alpha/second"' in page
    assert 'class="glossary-term"' in page and "Mark as read" in page
    assert client.get("/modules/alpha/nope").status_code == 404
    assert client.get("/modules/nope").status_code == 404


def opened_token(page: str) -> str:
    return re.search(r'name="opened" value="([^"]+)"', page).group(1)


def test_mark_as_read_records_once_with_time_on_page(app, client, login_as):
    user = login_as("trainee")
    token = opened_token(client.get("/modules/alpha/first").text)
    first = post_form(client, "/modules/alpha/first/read", {"opened": token})
    assert first.headers["Location"] == "/modules/alpha/second"
    again = post_form(client, "/modules/alpha/first/read", {"opened": token})  # a double click
    assert again.status_code == 302
    rows = db.session.scalars(select(LessonRead).where(LessonRead.user_id == user.id)).all()
    assert len(rows) == 1
    assert rows[0].seconds_on_page is not None and 0 <= rows[0].seconds_on_page < 60
    assert rows[0].content_version == get_catalog().module("alpha").content_hash
    assert "1 of 2 lessons read" in client.get("/modules/alpha").text


def test_a_tampered_timestamp_records_the_read_without_a_time(app, client, login_as):
    login_as("trainee")
    post_form(client, "/modules/alpha/second/read", {"opened": "1700000000.0"})
    row = db.session.scalar(select(LessonRead))
    assert row.lesson_id == "second" and row.seconds_on_page is None


def test_mark_read_of_an_unknown_lesson_changes_nothing(app, client, login_as):
    login_as("trainee")
    assert post_form(client, "/modules/alpha/nope/read").status_code == 404
    assert db.session.query(LessonRead).count() == 0


def test_home_suggests_the_next_unread_lesson(app, client, login_as):
    login_as("trainee")
    post_form(client, "/modules/alpha/first/read")
    home = client.get("/home").text
    assert "Next: <strong>The second lesson</strong>" in home


def test_module_images_are_served_safely(app, client, login_as):
    login_as("trainee")
    with client.get("/modules/alpha/assets/images/pocket.png") as image:
        assert image.status_code == 200 and image.mimetype == "image/png"
        assert "sandbox" in image.headers["Content-Security-Policy"]
    for path in ("/modules/alpha/assets/../module.md", "/modules/alpha/assets/%2e%2e/module.md",
                 "/modules/alpha/assets/module.md", "/modules/alpha/assets/images/../../02-beta/module.md"):
        assert client.get(path).status_code == 404, path


def test_glossary_page_lists_terms_with_anchors(app, client, login_as):
    login_as("trainee")
    page = client.get("/glossary").text
    assert 'id="ndc"' in page and "Par level" in page


def test_admin_sees_content_problems_and_the_app_skips_a_broken_module(tmp_path, builders):
    content = tmp_path / "content"
    shutil.copytree(DATA / "content", content)
    (content / "modules/02-beta/module.md").write_text("---\nid: [broken\n---\n")
    app = make_app(tmp_path, CONTENT_DIR=str(content))
    reset_database(app)
    client = app.test_client()
    with app.app_context():
        from tests.conftest import login

        login(client, builders.user("admin"))
        page = client.get("/admin/content").text
        assert "module skipped" in page and "modules/02-beta/module.md:2" in page
        assert "Beta module" not in client.get("/modules").text
        assert client.get("/modules/alpha/first").status_code == 200


def test_catalog_is_rendered_once_and_reloaded_in_debug_mode_after_an_edit(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(DATA / "content", content)
    app = make_app(tmp_path, CONTENT_DIR=str(content))
    with app.app_context():
        first = get_catalog()
        assert get_catalog() is first, "the same rendered catalog serves every request"
        (content / "modules/02-beta/01-only.md").write_text(
            (content / "modules/02-beta/01-only.md").read_text().replace("zanzibar", "timbuktu"))
        assert get_catalog() is first, "production picks up edits on restart, not per request"
    app.debug = True
    debug_app = make_app(tmp_path, CONTENT_DIR=str(content), DEBUG=True)
    with debug_app.app_context():
        before = get_catalog()
        assert "timbuktu" in before.module("beta").lessons[0].html
        path = content / "modules/02-beta/01-only.md"
        path.write_text(path.read_text().replace("timbuktu", "kathmandu"))
        assert "kathmandu" in get_catalog().module("beta").lessons[0].html

"""Security headers, cookies, error pages and the health check."""

from tests.conftest import create_user, login, make_app, reset_database


def test_every_response_carries_security_headers(app, client):
    for path in ("/login", "/healthz", "/static/css/site.css", "/no-such-page"):
        with client.get(path) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_scripts(app, client):
    login(client, create_user("admin"))
    for path in ("/login", "/home", "/admin/users", "/profile"):
        html = client.get(path).text
        assert "<script>" not in html and " onclick=" not in html


def test_session_cookie_is_httponly_and_samesite(app, client):
    login(client, create_user("trainee"))
    cookie = client.get_cookie("session", domain="lms.test")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_secure_cookie_setting_is_honoured(tmp_path):
    app = make_app(tmp_path, SESSION_COOKIE_SECURE=True)
    reset_database(app)
    response = app.test_client().get("/login", base_url="https://lms.test")
    assert "Secure" in response.headers["Set-Cookie"]


def test_error_pages_use_the_site_layout(app, client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text and 'class="site-header"' in response.text


def test_server_error_page_hides_details(tmp_path):
    app = make_app(tmp_path, TESTING=False)
    reset_database(app)

    from lms.access import public

    @app.route("/boom")
    @public
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text and "secret internals" not in response.text


def test_healthz_reports_ok_as_json(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path):
    first = make_app(tmp_path, SECRET_KEY=None)
    second = make_app(tmp_path, SECRET_KEY=None)
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()

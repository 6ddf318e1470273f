"""Security headers on every response, and error pages in the site's layout."""

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from lms.extensions import db

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def set_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static" and "Cache-Control" not in response.headers:
        # Pages can hold personal data: never let a shared cache keep them.
        response.headers["Cache-Control"] = "no-store"
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _error_page(status: int, title: str, message: str, error: Exception | None = None):
    # Keep the headers the exception carries (a 405's Allow, say); only the body is ours.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"] \
        if isinstance(error, HTTPException) else []
    if _wants_json():
        return {"error": title, "message": message}, status, headers
    return render_template("errors/error.html", status=status, title=title, message=message), status, headers


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _error_page(400, "The form expired or was not sent from this site",
                           "Go back, reload the page and submit the form again. Nothing was changed.")

    @app.errorhandler(400)
    def bad_request(error):
        return _error_page(400, getattr(error, "title", "Bad request"),
                           getattr(error, "description", "") or "The request was not valid.")

    @app.errorhandler(403)
    def forbidden(error):
        return _error_page(403, "You do not have access to this page",
                           "If you think you should, ask your supervisor or an administrator.")

    @app.errorhandler(404)
    def not_found(error):
        return _error_page(404, "Page not found", "The address may be mistyped, or the page has moved.")

    @app.errorhandler(405)
    def method_not_allowed(error):
        return _error_page(405, "Method not allowed", "This address does not accept that kind of request.", error)

    @app.errorhandler(410)
    def gone(error):
        return _error_page(410, "No longer available", getattr(error, "description", "") or "")

    @app.errorhandler(413)
    def too_large(error):
        return _error_page(413, "Upload too large", "The file or form is larger than the site accepts.")

    @app.errorhandler(429)
    def too_many(error):
        return _error_page(429, "Too many attempts", getattr(error, "description", "") or "Wait and try again.")

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return _error_page(500, "Something went wrong on our side",
                           "The error has been logged. Nothing you submitted was half-saved: try again.")

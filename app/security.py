"""Cross-cutting web security: CSRF, rate limiting and response headers."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from app.numbers import IdConverter

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

# No inline script anywhere in the admin: all JavaScript is served from /static.
ADMIN_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https: http:; frame-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
# Public pages and previews embed sanitised newsletter HTML; still no script.
PUBLIC_CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https: http:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        # Behind N reverse proxies, trust their X-Forwarded-For/-Proto so rate
        # limits key on the real client and https is recognised.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    # Every <int:...> in every route: ASCII digits within the column's range.
    app.url_map.converters["int"] = IdConverter
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    app.before_request(_refuse_nul_input)
    app.after_request(_security_headers)


def _refuse_nul_input() -> tuple[str, int] | None:
    """NUL is never valid text: PostgreSQL cannot store it (a 500 deep in any
    domain) and mail headers must not carry it. Refused once here for the
    path, every form field, query value, upload file name and JSON body (the importers
    deal with NUL inside uploaded files)."""
    if request.endpoint == "public.webhooks_ses":
        return None  # reads its raw body whatever the content type; only SNS-signed data is used
    values = [
        [request.path],
        *request.args.listvalues(),
        *request.form.listvalues(),
        [upload.filename or "" for group in request.files.listvalues() for upload in group],
    ]
    if any("\x00" in value for group in values for value in group) or (
        request.is_json and b"\\u0000" in request.get_data(cache=True)
    ):
        return "Text input must not contain NUL characters.", 400
    return None


def _security_headers(response: Response) -> Response:
    headers = response.headers
    is_admin = request.path.startswith("/admin")
    headers.setdefault("Content-Security-Policy", ADMIN_CSP if is_admin else PUBLIC_CSP)
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if is_admin:
        headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response

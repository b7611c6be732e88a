"""Pressroom: newsletter authoring and delivery."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    from app import config as app_config

    app_config.load(app, config)

    from app import db, errors, i18n, jobs, mail, models, security
    from app.auth import init_app as init_auth
    from app.job_handlers import PERIODIC, handlers

    assert models.__all__  # every domain's models registered, so Alembic sees the whole schema

    db.init_app(app)
    mail.init_app(app)
    jobs.init_app(app, handlers(), PERIODIC)
    security.init_app(app)
    init_auth(app)
    errors.init_app(app)
    i18n.init_app(app)

    from app.segments.store import compile_expression, find_audience
    from app.sending import audience

    audience.init_app(
        app, compile_expression, find_audience
    )  # sends to a segment (a port: sending does not import segments)

    from app.admin import bp as admin_bp
    from app.public import bp as public_bp

    app.register_blueprint(admin_bp)
    app.register_blueprint(public_bp)

    @app.context_processor
    def _newsletter_name() -> dict[str, str]:
        from app.settings import get_setting

        return {"newsletter_name": get_setting("newsletter_name")}

    from app.cli import register_commands

    register_commands(app)
    return app

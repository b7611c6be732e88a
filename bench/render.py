"""Per-recipient message build cost: render once vs render per recipient.

    .venv/bin/python bench/render.py [--file PATH.md] [--recipients 2000] [--baseline 40]

Render-once (what sends use): the issue is rendered, CSS-inlined and
QP-encoded once by ``prepare_issue_message``; each recipient then costs one
``build_message`` (token, headers, joining pre-encoded bytes).
Baseline, measured in the same run on the same issue: per recipient, render
the email template, run premailer and build the MIME with the stdlib
``EmailMessage`` (what a naive sender does). The rendered Markdown is reused
by the baseline too, so the ratio understates the real saving.

Target (issue 5): render-once at least 50x cheaper per recipient.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_FILE = Path(__file__).resolve().parent.parent.parent / "shared/corpus/seed/000_ee80896a50666d2e.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--baseline", type=int, default=40)
    args = parser.parse_args()

    from app import create_app
    from app.db import db

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            run(args)
            db.session.remove()
            db.engine.dispose()


def run(args: argparse.Namespace) -> None:
    from app.rendering.commands import issue_from_file
    from app.subscribers.tokens import unsubscribe_url
    from flask import current_app

    from app.rendering import render as render_module
    from app.rendering.message import Recipient, build_message, prepare_issue_message
    from app.settings import get_setting

    issue, _ = issue_from_file(str(args.file))
    started = time.perf_counter()
    rendered = render_module.render_issue(issue)
    prepared = prepare_issue_message(rendered)
    once_setup = time.perf_counter() - started

    recipients = [Recipient(f"reader{n}@example.com", f"Reader {n}", n + 1, 1) for n in range(args.recipients)]
    started = time.perf_counter()
    size = 0
    for recipient in recipients:
        size += len(build_message(prepared, recipient).raw)
    once = (time.perf_counter() - started) / len(recipients)

    # Baseline: the Markdown body is computed once here too (generous to the baseline).
    base = current_app.config["BASE_URL"].rstrip("/")
    safe = render_module.render_markdown(issue.body, base)
    body = render_module._rewrite_images(
        render_module._email_body(render_module._rewrite_links(safe, base, rendered.web_url, keep_fragments=False)),
        base,
        email=True,
    )
    template = current_app.jinja_env.get_template(render_module.EMAIL_TEMPLATE)
    started = time.perf_counter()
    for recipient in recipients[: args.baseline]:
        link = unsubscribe_url(recipient.subscriber_id, recipient.list_id)
        document = template.render(
            subject=issue.subject,
            preheader=issue.preheader,
            newsletter_name=get_setting("newsletter_name"),
            postal_address=get_setting("postal_address"),
            web_url=rendered.web_url,
            unsubscribe_url=link,
            body_html=body,
            test_banner=False,
        )
        email_html = render_module.inline_css(document)
        message = EmailMessage()
        message["From"] = current_app.config["FROM"]
        message["To"] = f"{recipient.name} <{recipient.email}>"
        message["Subject"] = issue.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain="example.com")
        message["List-Unsubscribe"] = f"<{link}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(rendered.text.replace(rendered.unsubscribe_placeholder, link))
        message.add_alternative(email_html, subtype="html")
        message.as_bytes()
    baseline = (time.perf_counter() - started) / args.baseline

    print(f"issue: {args.file.name} ({len(issue.body)} chars of Markdown, {size // len(recipients)} bytes/message)")
    print(f"render once (per issue):        {once_setup * 1000:8.1f} ms")
    print(f"render-once build, per message: {once * 1e6:8.1f} us  ({args.recipients} recipients)")
    print(f"baseline, per message:          {baseline * 1e6:8.1f} us  ({args.baseline} recipients)")
    print(f"ratio: render-once is {baseline / once:.0f}x cheaper per recipient (target >= 50x)")


if __name__ == "__main__":
    main()

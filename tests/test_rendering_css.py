"""The email's HTML and CSS checked against caniemail.com data with the npm
package @jsx-email/doiuse-email (installed by ``make test`` into
tests/email_css/node_modules; the test is skipped where node is missing)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from app.rendering.context import Brand, RenderContext
from app.rendering.render import render_issue
from tests.conftest import IS_POSTGRES, needs_corpus
from tests.support.rendering import SEED, archive_emails, corpus_issue, render

CHECKER = Path(__file__).parent / "email_css"
# What caniemail marks unsupported somewhere among the 15 clients and the test
# lets through, each because the email reads and lays out correctly without it
# (progressive enhancement), with the reason. Everything else must be 0.
GRACEFUL = {
    # Dark-mode colours and the phone's fixed table layout; without @media the
    # column is fluid anyway (width:100% under max-width) and colours stay light.
    "`@media`": "dark-mode and small-screen tweaks only",
    # The preheader is hidden by display:none, max-height:0 and overflow:hidden
    # together (Outlook by mso-hide): a client that ignores one still hides it.
    "`display:none`": "preheader hiding, backed by max-height/overflow/mso-hide",
    # Also a long code block's sideways scroll: where overflow is ignored the
    # block is cut at the column's edge (max-width), the line stays readable by copy.
    "`overflow`": "preheader hiding and code scrolling; degrades to clipping",
    # Clients that rebuild <body> (webmail) keep the tables inside it.
    "`<body> element`": "webmail replaces it; the layout lives in tables",
    # ProtonMail on iOS: links keep the client's own link style (coloured,
    # underlined); only our explicit underline is not applied.
    "`text-decoration`": "links stay styled as links by the client",
    # role="presentation" is for screen readers; unknown attributes are ignored.
    "`role attribute`": "accessibility hint, ignored where unknown",
    # <pre> keeps its line breaks in every client; white-space only adds
    # "no wrapping" where supported.
    "`white-space`": "code blocks keep their lines by <pre> alone",
}

RICH = """Intro with **bold**, *em*, `code` and a [link](https://example.com/).

---

## Section

![A chart](https://cdn.example/chart.png)

##### The caption

> A quote

1. one
2. two

| a | b |
|---|---|
| 1 | 2 |

```
code block
```

Note[^1].

[^1]: The footnote.
"""


def _errors(emails: list[str]) -> list[list[str]]:
    result = subprocess.run(
        ["node", str(CHECKER / "check.js")],
        input=json.dumps(emails),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(result.stdout)


def _unexpected(errors: list[str]) -> list[str]:
    return [error for error in errors if not error.startswith(tuple(GRACEFUL))]


needs_checker = pytest.mark.skipif(
    shutil.which("node") is None or not (CHECKER / "node_modules").is_dir(),
    reason="node or tests/email_css/node_modules missing (make test installs it)",
)


@needs_checker
def test_the_checker_sees_the_fifteen_clients_and_reports_what_they_lack() -> None:
    """The check itself can fail: a <style> rule no client supports and a
    property Outlook on Windows ignores are reported, per client."""
    document = (
        "<html><head><style>p { text-shadow: 1px 1px red; }</style></head>"
        '<body><div style="background-image:url(x.png);box-shadow:1px 1px red">Hi</div></body></html>'
    )
    (errors,) = _errors([document])
    assert any(error.startswith("`box-shadow`") and "outlook.windows" in error for error in errors), errors
    clients = " ".join(errors)
    for family in ("gmail.", "outlook.", "yahoo.", "aol.", "protonmail."):
        assert family in clients, family
    # Apple Mail, Samsung Email and Thunderbird support both properties; the
    # checker is asked about them too (every platform caniemail lists of each).
    listed = (CHECKER / "check.js").read_text()
    for family in ("gmail", "outlook", "apple-mail", "yahoo", "aol", "samsung-email", "thunderbird", "protonmail"):
        assert f"'{family}.*'" in listed, family


@needs_checker
@needs_corpus
def test_email_css_is_supported_by_the_fifteen_clients(app) -> None:
    from tests.support.rendering import make_issue

    branded = RenderContext(
        base_url="https://news.example.org",
        brand=Brand(
            newsletter_name="Fast Forward Labs",
            postal_address="1 Main St, Brooklyn, NY",
            logo_url="https://news.example.org/media/logo-email.png",
            accent_color="#b5179e",
            footer_text="Fast Forward Labs is part of Cloudera.",
        ),
    )
    emails = [
        render(make_issue(RICH), test_banner=True).email_html,
        render_issue(make_issue(RICH), branded).email_html,  # logo masthead, accent rule, footer text
        render(corpus_issue(SEED / "000_ee80896a50666d2e.txt")).email_html,
    ]
    assert 'src="https://news.example.org/media/logo-email.png"' in emails[1]
    assert "background-color:#b5179e" in emails[1] and "Fast Forward Labs is part of Cloudera." in emails[1]
    for errors in _errors(emails):
        assert _unexpected(errors) == [], "\n".join(_unexpected(errors))


@needs_checker
@needs_corpus
@pytest.mark.skipif(IS_POSTGRES, reason="database-independent; runs in the SQLite pass of make test")
def test_every_archive_email_is_supported_by_the_fifteen_clients(app) -> None:
    """Measured 2026-12-03: 0 errors beyond GRACEFUL over 237 emails."""
    emails = archive_emails()
    assert len(emails) == 237
    found = {name: _unexpected(errors) for name, errors in zip(emails, _errors(list(emails.values())), strict=True)}
    assert {name: errors for name, errors in found.items() if errors} == {}

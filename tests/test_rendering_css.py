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
from tests.conftest import needs_corpus
from tests.support.rendering import SEED, corpus_issue, render

CHECKER = Path(__file__).parent / "email_css"
# Unsupported somewhere, but only as progressive enhancement or harmless:
# @media carries the dark-mode and small-screen tweaks (the layout works
# without it); display:none/overflow hide the preheader (Outlook gets
# mso-hide); every email has a <body>; role="presentation" is ignored where unknown;
# white-space:pre-wrap only wraps long code lines, <pre> keeps its spacing anyway.
GRACEFUL = ("`@media`", "`<body> element`", "`display:none`", "`overflow`", "`role attribute`", "`white-space`")

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


@pytest.mark.skipif(
    shutil.which("node") is None or not (CHECKER / "node_modules").is_dir(),
    reason="node or tests/email_css/node_modules missing (make test installs it)",
)
@needs_corpus
def test_email_css_is_supported_by_gmail_outlook_apple_mail(app) -> None:
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
    for email_html in emails:
        result = subprocess.run(
            ["node", str(CHECKER / "check.js")],
            input=email_html,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        errors = json.loads(result.stdout)["errors"]
        unexpected = [error for error in errors if not error.startswith(GRACEFUL)]
        assert unexpected == []

"""A real archive issue in real Chromium: the list that used to run into its
paragraph with a literal "1." is a list again, at desktop and phone width."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import db
from app.issues.jekyll_import import import_paths
from app.issues.models import Issue
from app.subscribers.lists import get_or_create_list
from tests.conftest import CORPUS, screenshot
from tests.support.rendering import render

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the newsletter corpus is not at {CORPUS}"),
]

ISSUE = CORPUS / "ffl/published/2018-09-05-client.md"


def test_archive_issue_shows_kramdown_lists(live_server, page) -> None:
    report = import_paths([ISSUE])
    assert report.errors == []
    get_or_create_list("client", commit=False).public = True
    db.session.commit()
    page.goto(f"{live_server.url}/issues/2018-09-05-client")
    # "Snorkel's workflow has three main stages:" and, right under it, three steps.
    steps = page.locator("ol > li")
    assert steps.count() == 3
    assert steps.nth(0).inner_text().startswith("Writing Labeling Functions")
    assert steps.nth(2).inner_text().startswith("Training a Discriminative Model")
    assert page.locator("h5:has-text('Example labeling function')").count() == 1
    text = page.inner_text("body")
    assert "**" not in text and "Snorkel’s workflow" in text  # no literal markup; kramdown's apostrophe
    screenshot(page, "archive-lists-1280")
    page.set_viewport_size({"width": 375, "height": 800})
    assert steps.nth(1).is_visible()
    screenshot(page, "archive-lists-375")
    # The same issue as an email (what subscribers get), at phone width.
    issue = db.session.scalar(select(Issue).where(Issue.slug == "2018-09-05-client"))
    page.set_content(render(issue).email_html)
    assert page.locator("ol > li").count() == 3 and "**" not in page.inner_text("body")
    screenshot(page, "archive-lists-email-375")

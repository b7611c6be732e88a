"""Review fixes in delivery: concurrent scheduling, cancelled sends, bad input, erasure."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from app.db import db
from app.sending import service
from app.sending.models import Send
from app.sending.service import SendError
from app.settings import set_setting
from tests.support.sending import make_issue, make_list


def test_second_concurrent_create_send_is_refused(app, monkeypatch):
    set_setting("require_approval", False)
    issue = make_issue(status="draft")
    lst = make_list("Readers", 3)
    service.create_send(issue, [lst])
    # A second request read the issue (still draft) and passed check_sendable
    # before the first committed: simulate that window.
    set_committed_value(issue, "status", "draft")
    monkeypatch.setattr(service, "check_sendable", lambda issue: None)
    with pytest.raises(SendError, match="someone else"):
        service.create_send(issue, [lst])
    assert db.session.scalar(select(func.count()).select_from(Send)) == 1
    db.session.expire_all()
    assert issue.status == "scheduled"

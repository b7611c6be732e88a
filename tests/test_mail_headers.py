"""The headers of a newsletter delivery as the outbox writes it: each reader's own
List-Id (RFC 2919), a Date with a numeric zone, Gmail's Feedback-ID, and no
Precedence header (app/rendering/message.py says why)."""

from __future__ import annotations

from sqlalchemy import select

from app.db import db
from app.mail.message import OutgoingMessage, feedback_id_line
from app.sending import service
from app.sending.models import Delivery
from app.sending.worker import worker_for
from app.subscribers.models import MailingList
from tests.support.outbox import outbox_mails
from tests.support.sending import make_issue, make_list


def test_each_reader_gets_their_lists_list_id_a_numeric_date_and_a_feedback_id(app) -> None:
    issue = make_issue()
    first = make_list("Weekly Digest", 3)  # r0..r2
    second = make_list("Clients", 3, start=2)  # r2..r4: r2 on both
    second.display_name = 'Clients "Insider"'
    db.session.commit()
    send = service.create_send(issue, [first, second])
    db.session.commit()
    assert service.start_send(send.id)
    db.session.commit()
    worker_for(app).run(once=True)

    lists = {lst.id: lst for lst in db.session.scalars(select(MailingList))}
    list_of = dict(
        db.session.execute(select(Delivery.email, Delivery.list_id).where(Delivery.send_id == send.id)).all()
    )
    messages = outbox_mails(app)
    assert len(messages) == 5
    for message in messages:
        reader = message["To"].addresses[0].addr_spec
        expected = lists[list_of[reader]]
        domain = message["From"].addresses[0].domain
        # RFC 2919: a phrase and <label.domain>; quotes in a name cannot break out of the phrase.
        assert message["List-Id"] == f'"{expected.public_name.replace(chr(34), chr(39))}" <{expected.slug}.{domain}>'
        assert message["Date"].endswith(" +0000") and "GMT" not in message["Date"]
        assert message.get_all("Feedback-ID") == [f"{send.id}:{issue.id}:newsletter:{domain}"]
        assert message["Precedence"] is None
    assert {m["List-Id"] for m in messages} == {
        '"Weekly Digest" <weekly-digest.example.com>',
        "\"Clients 'Insider'\" <clients.example.com>",
    }


def test_feedback_id_is_for_newsletter_deliveries_only() -> None:
    one_off = OutgoingMessage("news@example.com", "reader@example.org", b"Subject: Confirm\r\n\r\nHi\r\n")
    assert feedback_id_line(one_off) == b""  # confirmations and test sends are no campaign
    odd = OutgoingMessage("news@example.com", "r@example.org", b"", tags={"send": "9", "issue": "a:b\r\nX: y"})
    assert feedback_id_line(odd) == b"Feedback-ID: 9:a-b--X--y:newsletter:example.com\r\n"

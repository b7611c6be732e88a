"""A realistic v0.1 database, as rows of the frozen 0001_initial schema.

Written against ``migrations/versions/0001_initial.py`` and the state values
v0.1 used (``git show 9901559:app/*/models.py``), never the current models:
this is what a v0.1 installation has in its tables when it is upgraded.
Every column is given explicitly, so the rows can be compared column by
column after the upgrade. Used by tests/test_upgrade_v01.py.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher

# Every table migration 0001_initial creates; the test checks this list against
# the database itself, so a table added to 0001 cannot be left without rows.
V01_TABLES = (
    "events",
    "lists",
    "rate_buckets",
    "settings",
    "sns_messages",
    "subscribers",
    "suppressions",
    "users",
    "event_lists",
    "issues",
    "media",
    "subscriber_imports",
    "subscriptions",
    "issue_lists",
    "revisions",
    "sends",
    "daily_stats",
    "deliveries",
    "send_lists",
    "feedback_events",
)
# Primary keys, for ordering rows and for comparing them one by one.
KEYS = {
    "rate_buckets": ("name",),
    "settings": ("key",),
    "sns_messages": ("message_id",),
    "event_lists": ("event_id", "list_id"),
    "subscriptions": ("subscriber_id", "list_id"),
    "issue_lists": ("issue_id", "list_id"),
    "send_lists": ("send_id", "list_id"),
}

PASSWORDS = {
    "ada@example.com": "v0.1 admin password!",
    "eddie@example.com": "eddie's long passphrase",
    "old@example.com": "retired editor password",
}
# The v0.1 worker that died with rows claimed, and another one, so the claim
# ranges the upgrade builds interleave.
WORKER_A = "mail-1-4242-a1b2c3"
WORKER_B = "mail-2-777-d4e5f6"
# "now" of the v0.1 installation (naive UTC), a minute before the test runs: the
# events the upgraded issues must show lie ahead of it, the leases of its dead worker
# around it. Fixed dates would rot into the past.
T0 = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=123456) - timedelta(minutes=1)
SECRET_KEY = "v0.1-upgrade-secret"
V01_PIXEL = "https://open-pixel.invalid/o.gif"


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def email_hash(email: str) -> str:
    """v0.1's suppression key (app/subscribers/suppression.py at 9901559)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def v01_placeholder(send_id: int, secret: str = SECRET_KEY) -> str:
    """v0.1's unsubscribe slot in a frozen send (compose.frozen_placeholder at 9901559)."""
    digest = hmac.new(secret.encode(), f"send:{send_id}".encode(), hashlib.sha256)
    return f"https://unsubscribe.invalid/{digest.hexdigest()[:24]}"


def _users() -> list[dict[str, Any]]:
    hasher = PasswordHasher()
    rows = [
        (1, "ada@example.com", "Ada Admin", "admin", True, t(-60 * 24 * 90), t(-30)),
        (2, "eddie@example.com", "Eddie Editor", "editor", True, t(-60 * 24 * 60), t(-120)),
        (3, "old@example.com", "", "editor", False, t(-60 * 24 * 200), None),
    ]
    return [
        {
            "id": i,
            "email": e,
            "name": n,
            "role": r,
            "password_hash": hasher.hash(PASSWORDS[e]),
            "session_token": hashlib.md5(e.encode()).hexdigest(),
            "is_enabled": on,
            "created_at": c,
            "last_login_at": last,
        }
        for i, e, n, r, on, c, last in rows
    ]


def _lists() -> list[dict[str, Any]]:
    return [
        {
            "id": 1,
            "name": "Weekly",
            "slug": "weekly",
            "description": "Our weekly letter.",
            "from_address": None,
            "public": True,
            "created_at": t(-60 * 24 * 90),
        },
        {
            "id": 2,
            "name": "Staff",
            "slug": "staff",
            "description": "",
            "from_address": "Staff <staff@example.com>",
            "public": False,
            "created_at": t(-60 * 24 * 80),
        },
        {
            "id": 3,
            "name": "Events only",
            "slug": "events",
            "description": "Talks and meetups.",
            "from_address": None,
            "public": True,
            "created_at": t(-60 * 24 * 70),
        },
    ]


# id, email, name, status, source
SUBSCRIBERS = [
    (1, "alice@example.com", "Alice", "enabled", "signup"),
    (2, "bob@example.com", "Bob", "enabled", "import:2024.csv"),
    (3, "chloe@example.com", "Chloé Müller", "enabled", "signup"),
    (4, "dan@example.com", "", "enabled", "signup"),
    (5, "eve@example.com", "Eve", "enabled", "signup"),
    (6, "frank@example.com", "Frank", "suppressed", "import:2024.csv"),
    (7, "grace@example.com", "Grace", "enabled", "admin"),
    (8, "heidi@example.com", "Heidi", "enabled", "signup"),
    (9, "ivan@example.com", "Ivan", "enabled", "signup"),
    (10, "judy@example.com", "Judy", "enabled", "signup"),
    (11, "mallory@example.com", "Mallory", "suppressed", "signup"),
    (12, "niaj@example.com", "Niaj", "enabled", "admin"),
    (13, "olivia@example.com", "Olivia", "enabled", "signup"),
    (14, "peggy@example.com", "Peggy", "enabled", "signup"),
]
# subscriber, list, status
SUBSCRIPTIONS = [
    (1, 1, "active"),
    (1, 2, "active"),
    (2, 1, "active"),
    (3, 1, "active"),
    (4, 1, "pending"),
    (5, 1, "unsubscribed"),
    (6, 1, "active"),
    (7, 1, "active"),
    (8, 1, "active"),
    (8, 3, "active"),
    (9, 1, "active"),
    (10, 1, "active"),
    (11, 1, "unsubscribed"),
    (12, 2, "active"),
    (13, 1, "active"),
    (14, 1, "active"),
    (3, 3, "pending"),
]


def _subscribers() -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "email": e,
            "name": n,
            "status": s,
            "source": src,
            "created_at": t(-60 * 24 * (40 - i)),
            "confirmation_sent_at": t(-60 * 24 * (40 - i)) if src == "signup" else None,
        }
        for i, e, n, s, src in SUBSCRIBERS
    ]


def _subscriptions() -> list[dict[str, Any]]:
    rows = []
    for sid, lid, status in SUBSCRIPTIONS:
        created = t(-60 * 24 * (40 - sid))
        rows.append(
            {
                "subscriber_id": sid,
                "list_id": lid,
                "status": status,
                "source": "signup",
                "created_at": created,
                "confirmed_at": created + timedelta(minutes=3) if status != "pending" else None,
                "unsubscribed_at": t(-60 * 24 * 2) if status == "unsubscribed" else None,
                "requested_at": created,
            }
        )
    return rows


ERASED = "erased-person@example.com"  # a subscriber v0.1 erased: only the hash is left


def _suppressions() -> list[dict[str, Any]]:
    rows = [
        (1, "frank@example.com", "hard-bounce", "ses bounce"),
        (2, "mallory@example.com", "complaint", "ses complaint"),
        (3, "eve@example.com", "unsubscribed-all", "unsubscribe link"),
        (4, "never-mail@example.org", "manual", "admin"),
        (5, ERASED, "deleted", "erasure"),
    ]
    return [
        {
            "id": i,
            "email_hash": email_hash(e),
            "email": None if reason == "deleted" else e,
            "reason": reason,
            "source": src,
            "created_at": t(-60 * 24 * 5 + i),
        }
        for i, e, reason, src in rows
    ]


def _events() -> list[dict[str, Any]]:
    return [
        {
            "id": 1,
            "title": "PyCon talk: mail at scale",
            "url": "https://example.org/talk",
            "starts_at": t(60 * 24 * 10),
            "ends_at": t(60 * 24 * 10 + 45),
            "timezone": "Europe/Berlin",
            "all_day": False,
            "location": "Berlin",
            "speakers": "Ada Admin",
            "description": "How we send.",
            "source": "admin",
            "created_at": t(-600),
        },
        {
            "id": 2,
            "title": "Community day",
            "url": "",
            "starts_at": t(60 * 24 * 20),
            "ends_at": None,
            "timezone": "UTC",
            "all_day": True,
            "location": "",
            "speakers": "",
            "description": "",
            "source": "ical:https://example.org/cal.ics",
            "created_at": t(-500),
        },
    ]


def _issue(i: int, slug: str, status: str, body: str, **extra: Any) -> dict[str, Any]:
    row = {
        "id": i,
        "slug": slug,
        "title": f"Issue {slug}",
        "subject": f"Subject of {slug}",
        "preheader": f"Preheader {i}",
        "body": body,
        "issue_date": date(2026, 11, i),
        "status": status,
        "version": 1 + i % 3,
        "events_heading": None,
        "excluded_event_ids": [],
        "source_filename": None,
        "front_matter": {},
        "front_matter_text": None,
        "created_at": t(-60 * 24 * 30 + i),
        "updated_at": t(-60 * 24 * 20 + i),
        "updated_by_id": 2,
        "approved_by_id": None,
        "approved_at": None,
        "sent_at": None,
    }
    row.update(extra)
    return row


def _issues() -> list[dict[str, Any]]:
    approved = {"approved_by_id": 1, "approved_at": t(-60 * 24)}
    return [
        _issue(
            1,
            "draft-notes",
            "draft",
            "# Draft\n\nStill writing *this*.\n\n[[events]]\n",
            events_heading="Meet us",
            excluded_event_ids=[2],
        ),
        _issue(2, "approved-letter", "approved", "Approved body with a [link](https://example.org/a).", **approved),
        _issue(3, "scheduled-letter", "scheduled", "Scheduled for **tomorrow**.", **approved),
        _issue(4, "sending-letter", "sending", "Going out now: https://example.org/now", **approved),
        _issue(5, "paused-letter", "sending", "Paused half way.", **approved),
        _issue(
            6,
            "sent-letter",
            "sent",
            "## Sent\n\nRead [more](https://example.org/more).",
            **approved,
            sent_at=t(-60 * 24 * 7),
        ),
        _issue(
            7,
            "2018-09-05-archive",
            "sent",
            "An archive issue.\n\n1. one\n2. two\n",
            source_filename="_posts/2018-09-05-archive.md",
            front_matter={"title": "Archive issue", "tags": ["old", "imported"], "layout": "post"},
            front_matter_text="title: Archive issue\ntags: [old, imported]\nlayout: post\n",
            issue_date=date(2018, 9, 5),
            sent_at=datetime(2018, 9, 5, 8, 0),
        ),
        _issue(8, "cancelled-letter", "cancelled", "Never mind.", **approved),
        _issue(
            9,
            "2027-01-01-imported-draft",
            "draft",
            "Imported, not sent yet.",
            source_filename="_posts/2027-01-01-imported-draft.md",
            front_matter={"title": "Imported draft"},
            front_matter_text="title: Imported draft\n",
        ),
    ]


def _revisions() -> list[dict[str, Any]]:
    rows, n = [], 0
    for issue, count in ((1, 3), (2, 2), (4, 1), (6, 2), (7, 1)):
        for number in range(1, count + 1):
            n += 1
            rows.append(
                {
                    "id": n,
                    "issue_id": issue,
                    "number": number,
                    "title": f"Issue {issue} r{number}",
                    "subject": f"Subject r{number}",
                    "preheader": "",
                    "body": f"Body {issue}.{number}",
                    "author_id": 2 if number % 2 else 1,
                    "created_at": t(-60 * 24 * 10 + n),
                    "note": "approved" if number == count else "",
                }
            )
    return rows


def _media() -> list[dict[str, Any]]:
    return [
        {
            "id": 1,
            "path": "images/2026/11/chart-1732000000000.png",
            "email_path": "images/2026/11/chart-1732000000000-email.png",
            "original_name": "chart.png",
            "content_type": "image/png",
            "size_bytes": 48213,
            "width": 1200,
            "height": 800,
            "alt_text": "Subscribers per week",
            "sha256": hashlib.sha256(b"chart").hexdigest(),
            "uploaded_by_id": 2,
            "created_at": t(-300),
        },
        {
            "id": 2,
            "path": "images/2018/09/logo-1536134400000.jpg",
            "email_path": None,
            "original_name": "logo.jpg",
            "content_type": "image/jpeg",
            "size_bytes": 1024,
            "width": 64,
            "height": 64,
            "alt_text": "",
            "sha256": hashlib.sha256(b"logo").hexdigest(),
            "uploaded_by_id": None,
            "created_at": t(-400),
        },
    ]


def _imports() -> list[dict[str, Any]]:
    base = {
        "list_id": 1,
        "list_name": "Weekly",
        "subscription_status": "active",
        "total_bytes": 2000,
        "created_by_id": 1,
        "errors": "[]",
        "message": "",
    }
    return [
        {
            **base,
            "id": 1,
            "filename": "2024.csv",
            "state": "done",
            "bytes_read": 2000,
            "rows": 40,
            "imported": 35,
            "already": 2,
            "suppressed": 1,
            "duplicates": 1,
            "invalid": 1,
            "errors": '[[7, "invalid address"]]',
            "message": "35 imported",
            "created_at": t(-60 * 24 * 30),
            "finished_at": t(-60 * 24 * 30 + 1),
        },
        {
            **base,
            "id": 2,
            "filename": "broken.csv",
            "state": "failed",
            "bytes_read": 100,
            "rows": 0,
            "imported": 0,
            "already": 0,
            "suppressed": 0,
            "duplicates": 0,
            "invalid": 0,
            "message": "no email column",
            "created_at": t(-60 * 24 * 3),
            "finished_at": t(-60 * 24 * 3),
        },
        {
            **base,
            "id": 3,
            "filename": "big.csv",
            "state": "running",
            "bytes_read": 900,
            "rows": 20,
            "imported": 20,
            "already": 0,
            "suppressed": 0,
            "duplicates": 0,
            "invalid": 0,
            "created_at": t(-2),
            "finished_at": None,
        },
        {
            **base,
            "id": 4,
            "list_id": None,
            "list_name": "Deleted list",
            "filename": "later.csv",
            "state": "queued",
            "bytes_read": 0,
            "rows": 0,
            "imported": 0,
            "already": 0,
            "suppressed": 0,
            "duplicates": 0,
            "invalid": 0,
            "subscription_status": "pending",
            "created_by_id": None,
            "created_at": t(-1),
            "finished_at": None,
        },
    ]


def frozen_html(send_id: int) -> str:
    """What v0.1 froze into a started send: the email with its HMAC unsubscribe slot and the pixel slot."""
    return (
        f'<!doctype html><html><body><p>Going out now: <a href="https://example.org/now">example</a></p>'
        f'<p><a href="{v01_placeholder(send_id)}">Unsubscribe</a></p>'
        f'<img src="{V01_PIXEL}" width="1" height="1" alt="" style="display:block;border:0">\n</body></html>'
    )


def frozen_text(send_id: int) -> str:
    return (
        f"Going out now: example [1]\n\nUnsubscribe: {v01_placeholder(send_id)}\n"
        "\nLinks:\n\n[1] https://example.org/now\n"
    )


# send id -> issue id, status (one per v0.1 send state)
SENDS = {1: (3, "scheduled"), 2: (4, "running"), 3: (5, "paused"), 4: (6, "finished"), 5: (8, "cancelled")}


def _sends() -> list[dict[str, Any]]:
    rows = []
    for sid, (issue, status) in SENDS.items():
        started = None if status == "scheduled" else t(-60 * 24 * 7 if status == "finished" else -90)
        rows.append(
            {
                "id": sid,
                "issue_id": issue,
                "status": status,
                "scheduled_at": t(60 * 24) if status == "scheduled" else started,
                "created_by_id": 1,
                "created_at": t(-60 * 24 * 8 + sid),
                "started_at": started,
                "finished_at": started + timedelta(minutes=20) if status in ("finished", "cancelled") else None,
                "pause_reason": "Bounce rate above 5%: 3 of 40" if status == "paused" else "",
                "recipient_count": 0,
                "subject": "" if status == "scheduled" else f"Subject of send {sid}",
                "html_body": "" if status == "scheduled" else frozen_html(sid),
                "text_body": "" if status == "scheduled" else frozen_text(sid),
            }
        )
    return rows


LEASE_A1, LEASE_A2, LEASE_B = t(-3), t(2), t(-1)


def _deliveries(emails: dict[int, str]) -> list[dict[str, Any]]:
    """Every v0.1 delivery state, ids in send order (v0.1 created a send's rows in one INSERT)."""
    spec = [
        # finished send 4: sent (with delivery confirmation), failed, skipped, unknown, an erased recipient
        (4, 1, "sent", {}),
        (4, 2, "sent", {"delivered_at": t(-60 * 24 * 7 + 1)}),
        (4, 3, "failed", {"error": "550 mailbox unavailable", "attempts": 1}),
        (4, 6, "skipped", {"error": "unsubscribed or suppressed since the send started"}),
        (4, 7, "unknown", {"error": "worker stopped before recording the result", "worker_id": WORKER_B}),
        (4, None, "sent", {"email": ERASED}),
        (4, 8, "sent", {}),
        (4, 9, "sent", {}),
        # cancelled send 5
        (5, 1, "sent", {}),
        (5, 2, "skipped", {"error": "send cancelled"}),
        (5, 3, "skipped", {"error": "send cancelled"}),
        (5, 7, "skipped", {"error": "send cancelled"}),
        # running send 2: queued, a retry waiting, claimed by two dead workers, answered ones
        (2, 1, "sent", {}),
        (2, 2, "claimed", {"worker_id": WORKER_A, "lease_expires_at": LEASE_A1}),
        (2, 3, "sent", {}),
        (2, 7, "claimed", {"worker_id": WORKER_B, "lease_expires_at": LEASE_B}),
        (2, 8, "claimed", {"worker_id": WORKER_A, "lease_expires_at": LEASE_A2}),
        (2, 9, "queued", {}),
        (2, 10, "queued", {}),
        (
            2,
            13,
            "queued",
            {"attempts": 1, "next_attempt_at": t(-1), "error": "throttled: Maximum sending rate exceeded"},
        ),
        (2, 14, "failed", {"error": "gave up after 5 attempts: timeout", "attempts": 5}),
        (2, 6, "skipped", {"error": "unsubscribed or suppressed since the send started"}),
        (2, 11, "unknown", {"error": "unexpected error: connection reset", "worker_id": WORKER_B}),
        # paused send 3
        (3, 1, "sent", {}),
        (3, 2, "sent", {}),
        (3, 3, "failed", {"error": "bounce"}),
        (3, 7, "queued", {}),
        (3, 8, "queued", {}),
        (3, 9, "queued", {}),
    ]
    rows = []
    for n, (send, sub, status, extra) in enumerate(spec, start=1):
        at = t(-60 * 24 * 7) if send == 4 else t(-80 + n)
        row = {
            "id": n,
            "send_id": send,
            "subscriber_id": sub,
            "list_id": 1,
            "email": emails.get(sub, ""),
            "status": status,
            "worker_id": WORKER_A if status in ("sent", "failed") else None,
            "lease_expires_at": None,
            "attempts": 1 if status in ("sent", "failed", "claimed", "unknown") else 0,
            "next_attempt_at": None,
            "message_id": None,
            "error": None,
            "updated_at": at,
            "sent_at": None,
            "delivered_at": None,
        }
        if status == "sent":
            row["message_id"] = f"0100019{n:05d}-5e1f-4c6e-a6f3-{send:04d}00000000-000000"
            row["sent_at"] = at
        row.update(extra)
        rows.append(row)
    return rows


def _feedback(deliveries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {d["id"]: d for d in deliveries}
    spec = [
        (1, "delivery", "", None, True),
        (2, "delivery", "", None, True),
        (1, "open", "", None, True),
        (1, "open", "", None, False),
        (2, "click", "", "https://example.org/more", True),
        (2, "click", "", "https://example.org/more", False),
        (3, "bounce", "Permanent/General: 550 5.1.1 user unknown", None, True),
        (2, "complaint", "abuse", None, True),
        (6, "open", "", None, True),
    ]
    rows = [
        {
            "id": n,
            "send_id": by_id[d]["send_id"],
            "delivery_id": d,
            "email": by_id[d]["email"] or None,
            "kind": kind,
            "detail": detail,
            "url": url,
            "occurred_at": t(-60 * 24 * 7 + 5 + n),
            "is_first": first,
        }
        for n, (d, kind, detail, url, first) in enumerate(spec, start=1)
    ]
    # An event whose delivery row is gone (SET NULL) but whose send is known.
    rows.append(
        {
            "id": len(rows) + 1,
            "send_id": 4,
            "delivery_id": None,
            "email": None,
            "kind": "open",
            "detail": "",
            "url": None,
            "occurred_at": t(-60 * 24 * 6),
            "is_first": True,
        }
    )
    return rows


def _daily_stats() -> list[dict[str, Any]]:
    day = datetime(2026, 8, 1)
    return [
        {"id": 1, "send_id": 4, "day": day, "kind": "open", "url": "", "count": 120},
        {"id": 2, "send_id": 4, "day": day, "kind": "open:unique", "url": "", "count": 80},
        {"id": 3, "send_id": 4, "day": day, "kind": "click", "url": "https://example.org/more", "count": 9},
        {"id": 4, "send_id": None, "day": day, "kind": "bounce", "url": "", "count": 2},
    ]


def v01_rows() -> dict[str, list[dict[str, Any]]]:
    """Every table of 0001 with its rows, in an order that satisfies the foreign keys."""
    subscribers = _subscribers()
    emails = {s["id"]: s["email"] for s in subscribers}
    deliveries = _deliveries(emails)
    sends = _sends()
    counts: dict[int, int] = {}
    for d in deliveries:
        counts[d["send_id"]] = counts.get(d["send_id"], 0) + 1
    for send in sends:
        send["recipient_count"] = counts.get(send["id"], 0)
    return {
        "users": _users(),
        "lists": _lists(),
        "subscribers": subscribers,
        "subscriptions": _subscriptions(),
        "suppressions": _suppressions(),
        "events": _events(),
        "event_lists": [{"event_id": 1, "list_id": 1}, {"event_id": 1, "list_id": 3}, {"event_id": 2, "list_id": 3}],
        "issues": _issues(),
        "issue_lists": [{"issue_id": i, "list_id": 1} for i in range(1, 10)] + [{"issue_id": 4, "list_id": 2}],
        "revisions": _revisions(),
        "media": _media(),
        "subscriber_imports": _imports(),
        "sends": sends,
        "send_lists": [{"send_id": s, "list_id": 1} for s in SENDS] + [{"send_id": 2, "list_id": 2}],
        "deliveries": deliveries,
        "feedback_events": _feedback(deliveries),
        "daily_stats": _daily_stats(),
        "rate_buckets": [
            {
                "name": "ses",
                "rate": 14.0,
                "tokens": 3.5,
                "updated_at": t(-1),
                "max_24h": 50000,
                "sent_last_24h": 1234,
                "quota_checked_at": t(-10),
                "throttled_until": None,
            }
        ],
        "settings": [
            {"key": "newsletter_name", "value": "The Pressroom Weekly"},
            {"key": "require_approval", "value": True},
            {"key": "postal_address", "value": "1 Main St, Springfield"},
            {"key": "reader_timezone", "value": "Europe/Berlin"},
            {"key": "events_window_days", "value": 45},
            {"key": "events_heading", "value": "Where to find us"},
            {"key": "track_clicks", "value": True},
            {"key": "track_opens", "value": True},
        ],
        "sns_messages": [
            {
                "message_id": "c1d2e3f4-0000-4000-8000-000000000001",
                "topic_arn": "arn:aws:sns:eu-west-1:123456789012:ses-feedback",
                "kind": "Bounce",
                "received_at": t(-60 * 24 * 7 + 10),
            }
        ],
    }

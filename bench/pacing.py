"""Delivery throughput against the fake SES, as a fraction of the allowed rate.

For each allowed rate (50/s, 200/s, 500/s; 30 ms API latency) the fake SES
runs in its own process and answers 429 above the rate. One worker delivers a
send of ``rate * SECONDS`` recipients; throughput is measured on the fake's
side (accepted messages per second over the middle 80% of the send). A naive loop (build,
send, record, one by one) runs against the same endpoint in the same run.

    .venv/bin/python bench/pacing.py [--seconds 6] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.db import db, utcnow  # noqa: E402
from app.issues.models import Issue  # noqa: E402
from app.mail import get_transport  # noqa: E402
from app.sending import service  # noqa: E402
from app.sending.compose import Composer  # noqa: E402
from app.sending.models import Delivery, Send  # noqa: E402
from app.sending.ports import RecipientRow  # noqa: E402
from app.sending.worker import run_worker  # noqa: E402
from app.subscribers.models import MailingList, Subscriber, Subscription  # noqa: E402


def start_fake(rate: float, latency: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_ses", "--rate", str(rate), "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    url = process.stdout.readline().strip()
    return process, url


def stats(url: str) -> dict:
    return requests.get(f"{url}/_fake/stats", timeout=10).json()


def make_send(name: str, count: int) -> Send:
    lst = MailingList(name=name, slug=name)
    issue = Issue(
        slug=name,
        title=name,
        subject=f"Bench {name}",
        status="approved",
        body="Hello **readers**.\n\n" + "Some text with a [link](https://example.org/).\n\n" * 40,
    )
    db.session.add_all([lst, issue])
    db.session.flush()
    db.session.execute(
        insert(Subscriber),
        [
            {"email": f"{name}-{i}@example.com", "name": f"R{i}", "status": "enabled", "created_at": utcnow()}
            for i in range(count)
        ],
    )
    ids = db.session.scalars(select(Subscriber.id).where(Subscriber.email.like(f"{name}-%"))).all()
    db.session.execute(
        insert(Subscription),
        [{"subscriber_id": i, "list_id": lst.id, "status": "active", "created_at": utcnow()} for i in ids],
    )
    db.session.commit()
    send = service.create_send(issue, [lst], at=utcnow())
    service.start_send(send.id)
    return send


def naive(app, url: str, count: int) -> float:
    """The baseline: one message at a time, each result committed before the next."""
    send = make_send(f"naive{int(time.time())}", count)
    composer = Composer(send)
    transport = get_transport(app)
    rows = db.session.execute(
        select(Delivery.id, Delivery.subscriber_id, Delivery.list_id, Delivery.email).where(Delivery.send_id == send.id)
    ).all()
    started = time.perf_counter()
    for row in rows:
        message_id = transport.send(composer.compose(RecipientRow(*row)))
        db.session.execute(
            Delivery.__table__.update().where(Delivery.id == row[0]).values(status="sent", message_id=message_id)
        )
        db.session.commit()
    return len(rows) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0, help="send length at the allowed rate")
    parser.add_argument("--rates", default="50,200,500")
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--threads", type=int, default=None, help="default: sized from the rate")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="pressroom-bench-")
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1"
    )
    threads = args.threads or "auto"
    print(f"database {url.split('@')[-1]}, latency {args.latency * 1000:.0f} ms, threads {threads}")
    print(
        f"{'allowed/s':>9} {'messages':>8} {'worker/s':>9} {'fraction':>8} {'429s':>5} {'naive/s':>8} "
        f"{'naive fraction':>14} {'speed-up':>8}"
    )
    for rate in [float(r) for r in args.rates.split(",")]:
        fake, endpoint = start_fake(rate, args.latency)
        os.environ["AWS_ENDPOINT_URL_SESV2"] = endpoint
        try:
            app = create_app(
                {
                    "DATABASE_URL": url,
                    "SECRET_KEY": "bench",
                    "POSTAL_ADDRESS": "Bench, 1 Example Street",  # a send needs one
                    "TRANSPORT": "ses",
                    "SEND_RATE": rate,
                    "SEND_THREADS": args.threads,
                    "SEND_POLL_SECONDS": 0.2,
                }
            )
            with app.app_context():
                db.create_all()  # no-op for tables that exist
                count = int(rate * args.seconds)
                make_send(f"bench{int(rate)}x{int(time.time())}", count)
            run_worker(app, once=True, threads=args.threads)
            result = stats(endpoint)
            # Steady state: the middle 80% of the send, so the initial burst
            # the token bucket allows does not flatter the figure.
            times = sorted(result["times"])
            low, high = int(len(times) * 0.1), int(len(times) * 0.9)
            achieved = (high - low) / ((times[high] - times[low]) or 1e-9)
            with app.app_context():
                baseline = naive(app, endpoint, min(count, 150))
                db.session.remove()
                db.engine.dispose()
            print(
                f"{rate:9.0f} {result['accepted']:8d} {achieved:9.1f} {achieved / rate:8.3f} "
                f"{result['throttled']:5d} {baseline:8.1f} {min(baseline, rate) / rate:14.3f} "
                f"{achieved / baseline:7.1f}x",
                flush=True,
            )
        finally:
            fake.terminate()
            fake.wait()


if __name__ == "__main__":
    main()

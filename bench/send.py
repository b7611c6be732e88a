"""Delivery throughput of ``pressroom worker --processes N`` against the ceiling
of this machine, on PostgreSQL (issue 14).

For 1, 2 and N processes: a send of ``--messages`` recipients is delivered by
Pressroom's engine (the production store, pacer and SES transport, allowed rate
far above what the machine can do) to a fake SES in its own process; then the
same number of bare botocore processes (64 threads each, retries off, the same
raw message size) send the same count to the same fake. Both are measured on
the fake's side (accepted messages per second over the middle 80%); printed:
both rates, their ratio (goal >= 0.8), and PostgreSQL WAL bytes written per
delivered message (goal < 1 KB; v0.1: 1,465).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/send.py [--messages 6000] [--processes 1,2,N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path

import boto3
import psycopg
from botocore.config import Config
from flask_migrate import upgrade
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.db import db, utcnow  # noqa: E402
from app.issues.models import Issue  # noqa: E402
from app.sending import service  # noqa: E402
from app.sending.compose import Composer  # noqa: E402
from app.sending.models import Send  # noqa: E402
from app.sending.ports import RecipientRow  # noqa: E402
from app.sending.worker import run_processes  # noqa: E402
from app.subscribers.models import MailingList, Subscriber  # noqa: E402
from bench.pacing import start_fake, stats  # noqa: E402

BODY = "Hello **readers**.\n\n" + "Some text with a [link](https://example.org/).\n\n" * 40


def make_send(name: str, count: int) -> tuple[int, bytes]:
    """A started send of ``count`` recipients, and one of its messages (for the bare loop)."""
    lst = MailingList(name=name, slug=name)
    issue = Issue(slug=name, title=name, subject=f"Bench {name}", status="approved", body=BODY)
    db.session.add_all([lst, issue])
    db.session.flush()
    for start in range(0, count, 50_000):
        db.session.execute(
            insert(Subscriber),
            [
                {"email": f"{name}-{i}@example.com", "name": f"R{i}", "status": "enabled", "created_at": utcnow()}
                for i in range(start, min(count, start + 50_000))
            ],
        )
    db.session.execute(
        text(
            "INSERT INTO subscriptions (subscriber_id, list_id, status, source, created_at) "
            "SELECT id, :list, 'active', 'bench', now() FROM subscribers WHERE email LIKE :p"
        ),
        {"list": lst.id, "p": f"{name}-%"},
    )
    db.session.commit()
    send = service.create_send(issue, [lst], at=utcnow())
    db.session.commit()
    service.start_send(send.id)
    db.session.commit()
    sample = Composer(db.session.get(Send, send.id)).compose(
        RecipientRow(1, 1, lst.id, f"{name}-0@example.com", "R0", "nonce")
    )
    return send.id, sample.raw


def _bare(endpoint: str, raw: bytes, count: int, threads: int) -> None:
    client = boto3.session.Session().client(
        "sesv2",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, max_pool_connections=threads),
    )
    remaining = [count]
    lock = threading.Lock()

    def loop() -> None:
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
                n = remaining[0]
            client.send_email(
                FromEmailAddress="news@example.com",
                Destination={"ToAddresses": [f"b{n}@example.com"]},
                Content={"Raw": {"Data": raw}},
            )

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def _rate(endpoint: str) -> tuple[float, int]:
    result = stats(endpoint)
    times = sorted(result["times"])
    if len(times) < 10:
        return 0.0, len(times)
    low, high = int(len(times) * 0.1), int(len(times) * 0.9)
    return (high - low) / ((times[high] - times[low]) or 1e-9), len(times)


def _wal(url: str) -> int:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return int(conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=6000)
    parser.add_argument("--processes", default=f"1,2,{os.cpu_count() or 2}")
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    if not (args.database_url or "").startswith("postgres"):
        sys.exit("set BENCH_DATABASE_URL to a PostgreSQL database (several processes share one send)")
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1"
    )
    counts = sorted({int(p) for p in args.processes.split(",")})
    print(
        f"{args.messages} messages per run, fake SES latency {args.latency * 1000:.0f} ms, "
        f"{args.threads} threads per process, {os.cpu_count()} CPUs"
    )
    print(f"{'processes':>9} {'pressroom/s':>11} {'bare/s':>8} {'ratio':>6} {'WAL B/msg':>10}")
    for processes in counts:
        fake, endpoint = start_fake(1_000_000, args.latency)
        os.environ["AWS_ENDPOINT_URL_SESV2"] = endpoint
        try:
            app = create_app(
                {
                    "DATABASE_URL": args.database_url,
                    "SECRET_KEY": "bench",
                    "POSTAL_ADDRESS": "Bench, 1 Example Street",  # a send needs one
                    "TRANSPORT": "ses",
                    "SEND_RATE": 100_000,
                    "SEND_THREADS": args.threads,
                    "TESTING": True,
                }
            )
            with app.app_context():
                upgrade()
                _, raw = make_send(f"tp{processes}x{int(time.time())}", args.messages)
                url = app.config["SQLALCHEMY_DATABASE_URI"]
                db.session.remove()
                db.engine.dispose()
            wal_before = _wal(url)
            run_processes(app, processes, once=True, threads=args.threads)
            wal_after = _wal(url)
            ours, accepted = _rate(endpoint)
        finally:
            fake.terminate()
            fake.wait()
        fake, endpoint = start_fake(1_000_000, args.latency)
        try:
            context = multiprocessing.get_context("fork")
            share = args.messages // processes
            bare = [context.Process(target=_bare, args=(endpoint, raw, share, args.threads)) for _ in range(processes)]
            for process in bare:
                process.start()
            for process in bare:
                process.join()
            theirs, _ = _rate(endpoint)
        finally:
            fake.terminate()
            fake.wait()
        wal = (wal_after - wal_before) / max(1, accepted)
        print(
            f"{processes:9d} {ours:11.0f} {theirs:8.0f} {ours / theirs if theirs else 0:6.2f} {wal:10.0f}", flush=True
        )


if __name__ == "__main__":
    main()

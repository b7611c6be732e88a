"""Subscriber scale bench: import 1,000,000 generated CSV rows into PostgreSQL
and time the admin list's first, middle and last page.

    PRESSROOM_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/subscribers.py [--rows 1000000]

The bench database is wiped (DROP SCHEMA public) and rebuilt by the real
migrations. Baselines measured in the same run: a 50,000-row import (rows per
second should not drop at 20x the size: batches keep the cost per row flat)
and /healthz through the same test client (request overhead). Memory is the
process peak RSS, which must not grow with the file: rows are streamed.

Targets (issue 7): import under 3 minutes, page p95 under 100 ms, bounded memory.

Then (issue 17; ``--no-audience`` skips it) ``bench/audience.py`` gives the
imported subscribers attributes and 10 finished sends of engagement history,
and times segment counts (``store.preview``), ``start_send`` of a segment
send, and the admin list filtered by a saved segment, each against a
baseline from the same run. Target: count and send start under 5 s. Its
docstring has the numbers measured at 1M.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test_h8"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """VmRSS now (the lifetime peak above includes argon2's hashing of the bench user)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def generate(path: Path, rows: int, offset: int = 0) -> None:
    """A realistic file: BOM, aliased header, shuffled order, 0.1% bad rows, 0.1% duplicates."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write("E-mail,Full Name\r\n")
        for i in range(rows):
            n = (i * 7_919 + 13) % rows + offset  # a permutation: inserts hit the index out of order
            if i % 1000 == 500:
                out.write(f"broken-address-{n},Bad Row\r\n")
            elif i % 1000 == 999:
                out.write(f"reader{n - 1:08d}@example{(n - 1) % 997}.org,Duplicate\r\n")
            else:
                out.write(f"reader{n:08d}@example{n % 997}.org,Reader {n}\r\n")


def reset(url: str) -> None:
    from app.config import _normalise_db_url

    engine = create_engine(_normalise_db_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def timed_import(path: Path, list_name: str):
    """Result, seconds, and the highest RSS sampled after every batch."""
    from app.subscribers.csv_import import import_csv

    samples = [current_rss_mb()]
    start = time.perf_counter()
    with path.open("rb") as stream:
        result = import_csv(stream, list_name, "active", progress=lambda _r: samples.append(current_rss_mb()))
    return result, time.perf_counter() - start, max(samples)


def p95(client, url: str, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.quantiles(samples, n=20)[-1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--no-audience", action="store_true", help="skip the segment part (bench/audience.py)")
    args = parser.parse_args()
    url = os.environ.get("PRESSROOM_BENCH_DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("PRESSROOM_BENCH_DATABASE_URL must name a PostgreSQL database (it is wiped).")

    reset(url)
    from flask_migrate import upgrade

    from app import create_app
    from app.auth.service import create_user
    from app.db import db

    tmp = Path(tempfile.mkdtemp(prefix="pressroom-bench-"))
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "TRANSPORT": f"outbox:{tmp / 'outbox'}",
            "POSTAL_ADDRESS": "Bench, 1 Example Street",  # a send needs one
        }
    )
    with app.app_context():
        upgrade()
        admin = create_user("bench@example.com", "correct horse battery", "admin", "Bench")
        rss_start = current_rss_mb()

        small, big = tmp / "baseline.csv", tmp / "big.csv"
        generate(small, args.baseline_rows, offset=50_000_000)
        generate(big, args.rows)
        print(
            f"generated {args.rows:,} rows ({big.stat().st_size / 1e6:.0f} MB) and a "
            f"{args.baseline_rows:,}-row baseline file",
            flush=True,
        )

        base_result, base_seconds, rss_baseline = timed_import(small, "Baseline")
        result, seconds, rss_big = timed_import(big, "Bench")
        base_rate, rate = base_result.rows / base_seconds, result.rows / seconds
        print(f"baseline import: {base_result.rows:,} rows in {base_seconds:.1f} s ({base_rate:,.0f} rows/s)")
        print(
            f"import:          {result.rows:,} rows in {seconds:.1f} s ({rate:,.0f} rows/s)  "
            f"target < 180 s: {'OK' if seconds < 180 else 'MISSED'}"
        )
        print(f"                 {result.summary()}")
        print(f"throughput ratio big/baseline: {rate / base_rate:.2f} (1.0 = cost per row flat)")
        print(
            f"RSS: before imports {rss_start:.0f} MB; highest during the {args.baseline_rows:,}-row import "
            f"{rss_baseline:.0f} MB, during the {args.rows:,}-row import {rss_big:.0f} MB "
            f"(ratio {rss_big / rss_baseline:.2f} for {args.rows / args.baseline_rows:.0f}x rows); "
            f"process peak {peak_rss_mb():.0f} MB"
        )

        db.session.execute(text("ANALYZE"))
        total = db.session.scalar(text("SELECT count(*) FROM subscribers"))
        middle = db.session.scalar(
            text("SELECT email FROM subscribers ORDER BY email OFFSET :n LIMIT 1"), {"n": total // 2}
        )
        bench_list = db.session.scalar(text("SELECT id FROM lists WHERE name = 'Bench'"))
        db.session.commit()

        from bench.audience import logged_in_client

        client = logged_in_client(app, admin)
        client.get("/admin/subscribers")  # warm templates and the connection pool
        overhead = p95(client, "/healthz", args.repeat)
        pages = {
            "first page": "/admin/subscribers",
            "middle page": f"/admin/subscribers?after={middle}",
            "last page": "/admin/subscribers?last=1",
            "list+status middle": f"/admin/subscribers?list={bench_list}&status=active&after={middle}",
            "prefix search": "/admin/subscribers?q=reader0050",
        }
        print(
            f"admin list over {total:,} subscribers, p95 of {args.repeat} requests "
            f"(baseline /healthz p95 {overhead:.1f} ms):"
        )
        worst = 0.0
        for label, page_url in pages.items():
            value = p95(client, page_url, args.repeat)
            worst = max(worst, value)
            print(f"  {label:20s} {value:7.1f} ms  ({value / overhead:.1f}x healthz)")
        print(f"page p95 target < 100 ms: {'OK' if worst < 100 else 'MISSED'}", flush=True)
        if not args.no_audience:
            from bench import audience

            audience.populate(bench_list)
            audience.measure(app, client, bench_list)
        db.session.remove()


if __name__ == "__main__":
    main()

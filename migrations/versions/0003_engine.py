"""Delivery engine: claims, per-send counts and progress, HOT-friendly deliveries

Revision ID: 0003_engine
Revises: 0002_foundations
Create Date: 2026-12-02

Deliveries are the table that grows (hundreds of millions of rows a year for
a big list) and is written twice per message. This revision takes every
index off the columns a claim changes, so a claim is a HOT update, and keeps
what those indexes answered elsewhere: counts by state in ``send_counts``,
open claims in ``delivery_claims``, per-minute progress in ``send_progress``.
Existing rows are counted and existing claims (a v0.1 worker that died) are
carried over before the old index goes. On PostgreSQL the new indexes are
built, and the old one dropped, CONCURRENTLY; the new columns are nullable
(no table rewrite); fillfactor 50 applies to pages written from now on.
Stop the workers while upgrading.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0003_engine'
down_revision = '0002_foundations'
branch_labels = None
depends_on = None

STATES = ("queued", "claimed", "sent", "failed", "skipped", "unknown")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _tables() -> None:
    op.create_table(
        'delivery_claims',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('send_id', sa.Integer(), nullable=False),
        sa.Column('worker_id', sa.String(length=100), nullable=False),
        sa.Column('first_id', sa.BigInteger(), nullable=False),
        sa.Column('last_id', sa.BigInteger(), nullable=False),
        sa.Column('lease_expires_at', sa.DateTime(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['send_id'], ['sends.id'], name=op.f('fk_delivery_claims_send_id_sends'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_claims')))
    op.create_index('ix_delivery_claims_lease', 'delivery_claims', ['lease_expires_at'])
    op.create_index(op.f('ix_delivery_claims_worker_id'), 'delivery_claims', ['worker_id'])
    op.create_table(
        'send_counts',
        sa.Column('send_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('shard', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATES)})", name=op.f('ck_send_counts_status')),
        sa.ForeignKeyConstraint(['send_id'], ['sends.id'], name=op.f('fk_send_counts_send_id_sends'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('send_id', 'status', 'shard', name=op.f('pk_send_counts')))
    op.create_table(
        'send_progress',
        sa.Column('send_id', sa.Integer(), nullable=False),
        sa.Column('minute', sa.DateTime(), nullable=False),
        sa.Column('shard', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('sent', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['send_id'], ['sends.id'], name=op.f('fk_send_progress_send_id_sends'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('send_id', 'minute', 'shard', name=op.f('pk_send_progress')))


def _columns() -> None:
    op.add_column('deliveries', sa.Column('claim_id', sa.BigInteger(), nullable=True))
    op.add_column('sends', sa.Column('first_delivery_id', sa.BigInteger(), nullable=True))
    op.add_column('sends', sa.Column('last_delivery_id', sa.BigInteger(), nullable=True))


def _counts_and_claims() -> None:
    """Counts of the rows already there, and a claim per (send, worker) of rows a
    v0.1 worker left claimed: its lease is the latest of theirs, so they become
    unknown exactly as v0.1 would. Reads deliveries only."""
    now = _now()
    op.execute("INSERT INTO send_counts (send_id, status, shard, n) "
               "SELECT send_id, status, 0, count(*) FROM deliveries GROUP BY send_id, status")
    op.execute(sa.text(
        "INSERT INTO delivery_claims (id, send_id, worker_id, first_id, last_id, lease_expires_at, created_at) "
        "SELECT min(id), send_id, coalesce(worker_id, ''), min(id), max(id), coalesce(max(lease_expires_at), :now), "
        ":now FROM deliveries WHERE status = 'claimed' GROUP BY send_id, coalesce(worker_id, '')"
    ).bindparams(now=now))


def _carry_over_postgresql() -> None:
    """What the rows already there need, read before any lock that blocks
    writers: the scans of deliveries take ACCESS SHARE only. (Delivery states do
    not change meanwhile: the workers are stopped.) Then the columns are added
    and filled from what was read, by primary key, in a short window that holds
    deliveries and sends (in the order writers lock them)."""
    _counts_and_claims()
    op.execute("CREATE TEMP TABLE upgrade_ranges ON COMMIT DROP AS "
               "SELECT send_id, min(id) AS first_id, max(id) AS last_id FROM deliveries GROUP BY send_id")
    op.execute("CREATE TEMP TABLE upgrade_claimed ON COMMIT DROP AS "
               "SELECT d.id, c.id AS claim_id FROM deliveries d JOIN delivery_claims c "
               "ON c.send_id = d.send_id AND c.worker_id = coalesce(d.worker_id, '') WHERE d.status = 'claimed'")
    op.execute("LOCK TABLE deliveries, sends IN ACCESS EXCLUSIVE MODE")
    _columns()
    op.execute("UPDATE sends SET first_delivery_id = r.first_id, last_delivery_id = r.last_id "
               "FROM upgrade_ranges r WHERE r.send_id = sends.id")
    op.execute("UPDATE deliveries SET claim_id = u.claim_id FROM upgrade_claimed u WHERE deliveries.id = u.id")


def _carry_over_sqlite() -> None:
    """The same on SQLite, where one writer at a time holds the database anyway."""
    _columns()
    _counts_and_claims()
    op.execute("UPDATE sends SET first_delivery_id = (SELECT min(id) FROM deliveries d WHERE d.send_id = sends.id), "
               "last_delivery_id = (SELECT max(id) FROM deliveries d WHERE d.send_id = sends.id)")
    op.execute("UPDATE deliveries SET claim_id = (SELECT c.id FROM delivery_claims c WHERE c.send_id = "
               "deliveries.send_id AND c.worker_id = coalesce(deliveries.worker_id, '')) WHERE status = 'claimed'")
    # Rows queued again with a time are found through the retry index; a v0.1
    # row requeued without one sits where the cursors pass anyway (its own id).


def upgrade():
    _tables()
    if op.get_bind().dialect.name == "postgresql":
        _carry_over_postgresql()
        with op.get_context().autocommit_block():
            # SHARE UPDATE EXCLUSIVE: writers go on. Applies to pages written from now on.
            op.execute("ALTER TABLE deliveries SET (fillfactor = 50)")
            op.create_index('ix_deliveries_retry', 'deliveries', ['send_id', 'next_attempt_at'],
                            postgresql_where=sa.text("next_attempt_at IS NOT NULL"), postgresql_concurrently=True,
                            if_not_exists=True)
            op.create_index('ix_deliveries_problems', 'deliveries', ['send_id'],
                            postgresql_where=sa.text("error IS NOT NULL"), postgresql_concurrently=True,
                            if_not_exists=True)
            op.drop_index('ix_deliveries_send_status', table_name='deliveries', postgresql_concurrently=True,
                          if_exists=True)
    else:
        _carry_over_sqlite()
        op.create_index('ix_deliveries_retry', 'deliveries', ['send_id', 'next_attempt_at'],
                        sqlite_where=sa.text("next_attempt_at IS NOT NULL"))
        op.create_index('ix_deliveries_problems', 'deliveries', ['send_id'],
                        sqlite_where=sa.text("error IS NOT NULL"))
        op.drop_index('ix_deliveries_send_status', table_name='deliveries')


def downgrade():
    op.create_index('ix_deliveries_send_status', 'deliveries', ['send_id', 'status'])
    op.drop_index('ix_deliveries_problems', table_name='deliveries')
    op.drop_index('ix_deliveries_retry', table_name='deliveries')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE deliveries RESET (fillfactor)")
    # Open claims go back to the rows' own lease, which v0.1's worker expires.
    op.execute("UPDATE deliveries SET lease_expires_at = (SELECT c.lease_expires_at FROM delivery_claims c "
               "WHERE c.id = deliveries.claim_id) WHERE status = 'claimed' AND claim_id IS NOT NULL")
    with op.batch_alter_table('sends', table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column('last_delivery_id')
        batch.drop_column('first_delivery_id')
    with op.batch_alter_table('deliveries', table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column('claim_id')
    op.drop_table('send_progress')
    op.drop_table('send_counts')
    op.drop_index(op.f('ix_delivery_claims_worker_id'), table_name='delivery_claims')
    op.drop_index('ix_delivery_claims_lease', table_name='delivery_claims')
    op.drop_table('delivery_claims')

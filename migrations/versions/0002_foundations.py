"""v0.2 foundations: jobs, uploads, sessions, frozen renderings, states the
schema enforces, ids never reused, token nonces

Revision ID: 0002_foundations
Revises: 0001_initial
Create Date: 2026-12-02

Written for big PostgreSQL databases: new columns are nullable or have a
constant default (no table rewrite), CHECK and foreign-key constraints are
added NOT VALID and validated after that transaction has committed (a scan that
does not block reads or writes), and indexes on large tables are built
CONCURRENTLY outside the transaction. On SQLite the
tables are rebuilt (batch mode, foreign keys off: see env.py), which is where
AUTOINCREMENT and the CHECK constraints can only come from.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_foundations'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# table -> (column, constraint name, allowed values)
STATES = {
    "issues": ("status", "ck_issues_status", ("draft", "approved", "scheduled", "sending", "sent", "cancelled")),
    "sends": ("status", "ck_sends_status", ("scheduled", "running", "paused", "cancelled", "finished")),
    "deliveries": ("status", "ck_deliveries_status",
                   ("queued", "claimed", "sent", "failed", "skipped", "unknown")),
    "subscriptions": ("status", "ck_subscriptions_status", ("pending", "active", "unsubscribed")),
    "subscribers": ("status", "ck_subscribers_status", ("enabled", "suppressed")),
    "subscriber_imports": ("state", "ck_subscriber_imports_state", ("queued", "running", "done", "failed")),
    "users": ("role", "ck_users_role", ("admin", "editor")),
}
# Tables whose ids may appear in tokens or links: SQLite must never hand an id out twice.
NO_REUSE = ("users", "lists", "subscribers", "issues", "revisions", "sends", "deliveries", "suppressions",
            "feedback_events", "daily_stats", "events", "media", "subscriber_imports")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _create_tables() -> None:
    op.create_table(
        'quota_counters',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('window_start', sa.DateTime(), nullable=False),
        sa.Column('used', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_quota_counters')))
    op.create_table(
        'jobs',
        sa.Column('id', BigId, nullable=False),
        sa.Column('kind', sa.String(length=100), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('run_after', sa.DateTime(), nullable=False),
        sa.Column('locked_by', sa.String(length=100), nullable=True),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('progress_done', sa.BigInteger(), nullable=False),
        sa.Column('progress_total', sa.BigInteger(), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=200), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint(_in("state", ("queued", "running", "done", "failed", "cancelled")),
                           name=op.f('ck_jobs_state')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_jobs_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_jobs_dedupe_key')),
        sqlite_autoincrement=True)
    op.create_index('ix_jobs_due', 'jobs', ['run_after'], unique=False,
                    postgresql_where=sa.text("state = 'queued'"), sqlite_where=sa.text("state = 'queued'"))
    op.create_index('ix_jobs_kind_state', 'jobs', ['kind', 'state'], unique=False)
    op.create_table(
        'uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=300), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_uploads_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads')),
        sqlite_autoincrement=True)
    op.create_table(
        'upload_chunks',
        sa.Column('upload_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_upload_chunks_upload_id_uploads'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('upload_id', 'seq', name=op.f('pk_upload_chunks')))
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('user_agent', sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')))
    op.create_index(op.f('ix_user_sessions_user_id'), 'user_sessions', ['user_id'], unique=False)
    op.create_table(
        'renderings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('issue_version', sa.Integer(), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('preheader', sa.String(length=300), nullable=False),
        sa.Column('email_html', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('web_html', sa.Text(), nullable=False),
        sa.Column('web_url', sa.String(length=2000), nullable=False),
        sa.Column('links', sa.JSON(), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_renderings_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_renderings_issue_id_issues'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_renderings')),
        sqlite_autoincrement=True)
    op.create_index(op.f('ix_renderings_issue_id'), 'renderings', ['issue_id'], unique=False)


# Columns added to existing tables: (table, column, foreign key or None).
def _new_columns() -> dict[str, list[tuple[sa.Column, tuple | None]]]:
    return {
        "issues": [(sa.Column('auto_events', sa.Boolean(), server_default=sa.true(), nullable=False), None),
                   (sa.Column('approved_rendering_id', sa.Integer(), nullable=True),
                    ('fk_issues_approved_rendering_id_renderings', 'renderings', 'SET NULL'))],
        "sends": [(sa.Column('rendering_id', sa.Integer(), nullable=True),
                   ('fk_sends_rendering_id_renderings', 'renderings', None))],
        "subscriber_imports": [(sa.Column('job_id', BigId, nullable=True),
                                ('fk_subscriber_imports_job_id_jobs', 'jobs', 'SET NULL'))],
        "subscribers": [(sa.Column('token_nonce', sa.String(length=32), nullable=True), None)],
        "users": [(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False),
                   None)],
    }


def _upgrade_sqlite() -> None:
    columns = _new_columns()
    for table in sorted(set(NO_REUSE) | set(STATES) | set(columns)):
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}) as batch:
            for column, fk in columns.get(table, []):
                batch.add_column(column)
                if fk is not None:
                    name, target, ondelete = fk
                    batch.create_foreign_key(op.f(name), target, [column.name], ['id'], ondelete=ondelete)
            if table in STATES:
                column_name, name, values = STATES[table]
                batch.create_check_constraint(op.f(name), _in(column_name, values))
    op.create_index(op.f('ix_suppressions_email'), 'suppressions', ['email'])


def _upgrade_postgresql() -> None:
    # Every ALTER below takes a brief ACCESS EXCLUSIVE lock (catalog changes only:
    # nullable or constant-default columns, constraints NOT VALID), held until the
    # transaction commits at the autocommit block. Deliveries first, then sends:
    # the order in which a feedback insert's foreign-key checks take them, so a
    # live web process waits for the upgrade instead of deadlocking with it.
    op.execute("LOCK TABLE deliveries, sends IN ACCESS EXCLUSIVE MODE")
    checks: list[tuple[str, str]] = []
    for table, table_columns in _new_columns().items():
        for column, fk in table_columns:
            op.add_column(table, column)   # nullable or a constant default: no table rewrite
            if fk is not None:
                name, target, ondelete = fk
                op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column.name}) '
                           f'REFERENCES {target} (id){" ON DELETE " + ondelete if ondelete else ""} NOT VALID')
                checks.append((table, name))
    for table, (column, name, values) in STATES.items():
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({_in(column, values)}) NOT VALID")
        checks.append((table, name))
    with op.get_context().autocommit_block():
        # Each VALIDATE in its own transaction, after the locks above are gone: it
        # scans the table under SHARE UPDATE EXCLUSIVE, which reads and writes pass.
        for table, name in checks:
            op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")
        op.create_index(op.f('ix_suppressions_email'), 'suppressions', ['email'], postgresql_concurrently=True,
                        if_not_exists=True)


def upgrade():
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()
    # Archive issues imported as sent keep exactly their content: no events section
    # is added to them (issues written in Pressroom, and imported drafts, get one).
    op.execute("UPDATE issues SET auto_events = false WHERE source_filename IS NOT NULL AND status = 'sent'")


def downgrade():
    bind = op.get_bind()
    columns = _new_columns()
    op.drop_index(op.f('ix_suppressions_email'), table_name='suppressions')
    if bind.dialect.name == "postgresql":
        for table, (_column, name, _values) in STATES.items():
            op.drop_constraint(op.f(name), table, type_="check")
        for table, table_columns in columns.items():
            for column, _fk in table_columns:
                op.drop_column(table, column.name)   # drops its foreign key too
    else:
        for table in sorted(set(STATES) | set(columns)):
            with op.batch_alter_table(table, recreate="always") as batch:
                if table in STATES:
                    batch.drop_constraint(op.f(STATES[table][1]), type_="check")
                for column, fk in columns.get(table, []):
                    if fk is not None:
                        batch.drop_constraint(op.f(fk[0]), type_="foreignkey")
                    batch.drop_column(column.name)
    for table in ('renderings', 'user_sessions', 'upload_chunks', 'uploads', 'jobs', 'quota_counters'):
        op.drop_table(table)

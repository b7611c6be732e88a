"""Audience: typed subscriber attributes, declared attribute types, saved segments, sends to a segment

Revision ID: 0008_audience
Revises: 0007_list_language
Create Date: 2026-12-03

``subscribers.attributes`` is NOT NULL with a constant server default, so
existing rows read ``{}`` without a table rewrite (PostgreSQL 11+, SQLite).
On PostgreSQL it is ``jsonb`` with a GIN index (``jsonb_ops``: serves ``@>``
and ``?``, which the segment compiler emits), and the subscriber search gets
trigram indexes when the ``pg_trgm`` extension can be created; without it
(a database user without the privilege) search still works, by sequential
scan, and the migration says so instead of failing.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0008_audience'
down_revision = '0007_list_language'
branch_labels = None
depends_on = None


def _pg() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _trigram_indexes() -> None:
    bind = op.get_bind()
    available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first()
    if available is None:
        print("pg_trgm is not available: subscriber search will scan (install postgresql-contrib)")
        return
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        savepoint.rollback()
        print(f"pg_trgm could not be created ({exc.orig}); subscriber search will scan")
        return
    savepoint.commit()
    op.execute("CREATE INDEX ix_subscribers_email_trgm ON subscribers USING gin (email gin_trgm_ops)")
    op.execute("CREATE INDEX ix_subscribers_name_trgm ON subscribers USING gin (name gin_trgm_ops)")


def _sqlite_add_foreign_key_column() -> None:
    """SQLite adds a constraint only by rebuilding the table; the rebuild
    keeps AUTOINCREMENT and the sequence, so no send id is handed out twice."""
    bind = op.get_bind()
    seq = bind.execute(sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'sends'")).scalar()
    with op.batch_alter_table('sends', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.add_column(sa.Column('segment_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_sends_segment_id_segments'), 'segments', ['segment_id'], ['id'],
                                 ondelete='SET NULL')
    if seq is not None:
        updated = bind.execute(sa.text("UPDATE sqlite_sequence SET seq = MAX(seq, :seq) WHERE name = 'sends'"),
                               {"seq": seq})
        if not updated.rowcount:  # every send had been deleted: the rebuilt table has no sequence row yet
            bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('sends', :seq)"), {"seq": seq})


def upgrade():
    json_type = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
    default = sa.text("'{}'::jsonb") if _pg() else sa.text("'{}'")
    op.add_column('subscribers', sa.Column('attributes', json_type, nullable=False, server_default=default))
    if _pg():
        op.create_index('ix_subscribers_attributes', 'subscribers', ['attributes'], postgresql_using='gin')
        _trigram_indexes()
    op.create_table(
        'attribute_definitions',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('type', sa.String(length=10), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("type IN ('text', 'number', 'date', 'boolean', 'list')",
                           name=op.f('ck_attribute_definitions_type')),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_attribute_definitions')))
    op.create_table(
        'segments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('slug', sa.String(length=100), nullable=False),
        sa.Column('expression', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_segments_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_segments')),
        sa.UniqueConstraint('name', name=op.f('uq_segments_name')),
        sa.UniqueConstraint('slug', name=op.f('uq_segments_slug')),
        sqlite_autoincrement=True)
    op.create_table(
        'segment_lists',
        sa.Column('segment_id', sa.Integer(), nullable=False),
        sa.Column('list_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_segment_lists_segment_id_segments'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['list_id'], ['lists.id'], name=op.f('fk_segment_lists_list_id_lists'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('segment_id', 'list_id', name=op.f('pk_segment_lists')))
    if _pg():
        op.add_column('sends', sa.Column('segment_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_sends_segment_id_segments'), 'sends', 'segments', ['segment_id'], ['id'],
                              ondelete='SET NULL')
    else:
        _sqlite_add_foreign_key_column()
    op.add_column('sends', sa.Column('segment_name', sa.String(length=200), nullable=False, server_default=''))
    op.add_column('sends', sa.Column('segment_expression', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('sends', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_constraint(op.f('fk_sends_segment_id_segments'), type_='foreignkey')
        batch.drop_column('segment_expression')
        batch.drop_column('segment_name')
        batch.drop_column('segment_id')
    op.drop_table('segment_lists')
    op.drop_table('segments')
    op.drop_table('attribute_definitions')
    if _pg():
        op.execute("DROP INDEX IF EXISTS ix_subscribers_email_trgm")
        op.execute("DROP INDEX IF EXISTS ix_subscribers_name_trgm")
        op.drop_index('ix_subscribers_attributes', table_name='subscribers')
    with op.batch_alter_table('subscribers') as batch:
        batch.drop_column('attributes')

"""Issues as a collection: templates, unpublishing, an audit record; the zone a send was scheduled in

Revision ID: 0004_collection
Revises: 0003_engine
Create Date: 2026-12-03

Two small new tables and a nullable column on ``issues`` and on ``sends`` (no
table rewrite on PostgreSQL; on SQLite ADD COLUMN of a nullable column is in
place too).
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_collection'
down_revision = '0003_engine'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'issue_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('preheader', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('list_ids', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_issue_templates_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_templates')),
        sa.UniqueConstraint('name', name=op.f('uq_issue_templates_name')),
        sqlite_autoincrement=True)
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_email', sa.String(length=320), nullable=False),
        sa.Column('action', sa.String(length=50), nullable=False),
        sa.Column('subject', sa.String(length=50), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('summary', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
        sqlite_autoincrement=True)
    op.create_index('ix_audit_events_subject', 'audit_events', ['subject', 'subject_id'])
    op.add_column('issues', sa.Column('unpublished_at', sa.DateTime(), nullable=True))
    op.add_column('sends', sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('sends') as batch:
        batch.drop_column('timezone')
    with op.batch_alter_table('issues') as batch:
        batch.drop_column('unpublished_at')
    op.drop_index('ix_audit_events_subject', table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_table('issue_templates')

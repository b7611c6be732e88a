"""Engagement without deliveries: feedback_events.subscriber_id and an index (send_id, kind, subscriber_id)

Revision ID: 0009_engagement_index
Revises: 0008_audience
Create Date: 2026-12-03

Segments ask "which subscribers have an open (or click) on one of the last N
sends". Through deliveries that meant reading the delivery row of every event
(deliveries is the big table, with no index that gives its subscriber): about
20 s at 1M subscribers and 10 sends (bench/audience.py). Each event now
carries its delivery's subscriber id (filled here for existing events), and
the index on (send_id, kind) becomes (send_id, kind, subscriber_id), which
answers the question index-only. No foreign key: subscriber ids are never
reused, and erasure clears the column. Deliveries are not touched.

On PostgreSQL the column is nullable (no table rewrite) and the index is built,
and the old one dropped, CONCURRENTLY. The fill is one UPDATE of the events of
the retention period.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_engagement_index'
down_revision = '0008_audience'
branch_labels = None
depends_on = None

FILL = ("UPDATE feedback_events SET subscriber_id = (SELECT d.subscriber_id FROM deliveries d "
        "WHERE d.id = feedback_events.delivery_id) WHERE delivery_id IS NOT NULL")


def upgrade():
    op.add_column('feedback_events', sa.Column('subscriber_id', sa.Integer(), nullable=True))
    op.execute(FILL)
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index('ix_feedback_send_kind_subscriber', 'feedback_events',
                            ['send_id', 'kind', 'subscriber_id'], postgresql_concurrently=True, if_not_exists=True)
            op.drop_index('ix_feedback_send_kind', table_name='feedback_events', postgresql_concurrently=True,
                          if_exists=True)
    else:
        op.create_index('ix_feedback_send_kind_subscriber', 'feedback_events', ['send_id', 'kind', 'subscriber_id'])
        op.drop_index('ix_feedback_send_kind', table_name='feedback_events')


def downgrade():
    op.create_index('ix_feedback_send_kind', 'feedback_events', ['send_id', 'kind'])
    op.drop_index('ix_feedback_send_kind_subscriber', table_name='feedback_events')
    with op.batch_alter_table('feedback_events') as batch:
        batch.drop_column('subscriber_id')

"""trust: sandbox id allocation, reset counter, change requests

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 20:20:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import lms.db  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


# Every per-instance table (sb_instance.next_row_id starts above the ids already used in any of them).
INSTANCE_TABLES = (
    "sb_drug", "sb_product", "sb_barcode", "sb_lot", "sb_location", "sb_cabinet", "sb_pocket", "sb_patient",
    "sb_stock", "sb_override_item", "sb_cabinet_txn", "sb_discrepancy", "sb_robot_item", "sb_staff",
    "sb_allergen_class", "sb_allergen_member", "sb_allergy", "sb_encounter", "sb_order", "sb_order_set",
    "sb_order_set_version", "sb_order_sentence", "sb_cds_rule", "sb_cds_test_case", "sb_interface_channel",
    "sb_interface_message", "sb_code_map", "sb_iv_preparation", "sb_verification_queue", "sb_change_request",
    "sb_audit",
)


def upgrade():
    with op.batch_alter_table('sb_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_row_id', sa.Integer(), server_default='1', nullable=False))
    ids = " UNION ALL ".join(f"SELECT id FROM {t} WHERE {t}.instance_id = sb_instance.id" for t in INSTANCE_TABLES)
    op.execute(f"UPDATE sb_instance SET next_row_id = 1 + COALESCE((SELECT MAX(ids.id) FROM ({ids}) AS ids), 0)")

    with op.batch_alter_table('sb_change_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=1000), server_default='', nullable=False))
        batch_op.add_column(sa.Column('risk', sa.String(length=500), server_default='', nullable=False))
        batch_op.add_column(sa.Column('test_plan', sa.String(length=1000), server_default='', nullable=False))
        batch_op.add_column(sa.Column('raised_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('raised_at', lms.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('approved_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('approved_at', lms.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('sb_change_request', schema=None) as batch_op:
        # The model has no server default for these (the seed and the service always give them).
        batch_op.alter_column('reason', server_default=None)
        batch_op.alter_column('risk', server_default=None)
        batch_op.alter_column('test_plan', server_default=None)


def downgrade():
    with op.batch_alter_table('sb_change_request', schema=None) as batch_op:
        for name in ('approved_at', 'approved_by', 'raised_at', 'raised_by', 'test_plan', 'risk', 'reason'):
            batch_op.drop_column(name)
    with op.batch_alter_table('sb_instance', schema=None) as batch_op:
        batch_op.drop_column('next_row_id')

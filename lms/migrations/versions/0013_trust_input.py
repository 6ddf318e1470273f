"""trust: input bounds

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 20:20:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import lms.db  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


IN_RANGE = "BETWEEN '1900-01-01' AND '2199-12-31'"


def upgrade():
    # Dates outside the range lms.validation accepts cannot be stored (a 9999-12-31 due date broke the .ics feed).
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_check_constraint('dates_in_range', f"start_on {IN_RANGE} AND due_on {IN_RANGE}")
    with op.batch_alter_table('due_date_extension', schema=None) as batch_op:
        batch_op.create_check_constraint('due_on_in_range', f"due_on {IN_RANGE}")


def downgrade():
    with op.batch_alter_table('due_date_extension', schema=None) as batch_op:
        batch_op.drop_constraint('due_on_in_range', type_='check')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_constraint('dates_in_range', type_='check')

"""trust: names as issued on credits, reissues, reinstatements, re-earning after a revocation

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 20:20:00

- credit: holder_name and holder_nabp_id (the trainee's name and NABP e-Profile ID as issued, backfilled
  from the user table), revoked_at (the current state of the status history, backfilled from
  credit_revocation); the unique (user_id, module_id, content_version) becomes a partial unique index on
  earned credits only, so a revoked credit stays on record beside a re-earned one.
- credit_status_event replaces credit_revocation (every revocation is copied over as a "revoked" event):
  an append-only history of revocations and reinstatements.
- credit_name_correction: an admin's reissue under a corrected name.
- activity_evaluation: cycle (0 for existing rows), unique per user, module, version and cycle.
- notification: assignment_id becomes nullable, credit_id added (revocation and reinstatement notices).

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

EARNED = sa.text("revoked_at IS NULL")


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds a table to alter it; with foreign keys enforced, dropping the old copy of a table that
    other rows reference fails. The pragma only takes effect outside a transaction."""
    if op.get_bind().dialect.name == "sqlite":
        with op.get_context().autocommit_block():
            op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('credit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('holder_nabp_id', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', lms.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE credit SET holder_name = (SELECT COALESCE(NULLIF(u.name, ''), u.email) FROM user_account u "
               "WHERE u.id = credit.user_id), holder_nabp_id = (SELECT u.nabp_eprofile_id FROM user_account u "
               "WHERE u.id = credit.user_id)")
    op.execute("UPDATE credit SET revoked_at = (SELECT r.revoked_at FROM credit_revocation r "
               "WHERE r.credit_id = credit.id)")

    op.create_table('credit_status_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_credit_status_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['credit_id'], ['credit.id'], name=op.f('fk_credit_status_event_credit_id_credit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_status_event'))
    )
    with op.batch_alter_table('credit_status_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_status_event_credit_id'), ['credit_id'], unique=False)
    op.execute("INSERT INTO credit_status_event (credit_id, action, at, actor_id, reason) "
               "SELECT credit_id, 'revoked', revoked_at, revoked_by_id, reason FROM credit_revocation ORDER BY id")
    op.drop_table('credit_revocation')

    with op.batch_alter_table('credit', schema=None) as batch_op:
        batch_op.alter_column('holder_name', existing_type=sa.String(length=120), nullable=False)
        batch_op.drop_constraint('uq_credit_user_id_module_id_content_version', type_='unique')
    op.create_index('uq_credit_earned', 'credit', ['user_id', 'module_id', 'content_version'], unique=True,
                    sqlite_where=EARNED, postgresql_where=EARNED)

    op.create_table('credit_name_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_id', sa.Integer(), nullable=False),
    sa.Column('old_name', sa.String(length=120), nullable=False),
    sa.Column('new_name', sa.String(length=120), nullable=False),
    sa.Column('old_nabp_id', sa.String(length=10), nullable=True),
    sa.Column('new_nabp_id', sa.String(length=10), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('corrected_by_id', sa.Integer(), nullable=False),
    sa.Column('corrected_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['corrected_by_id'], ['user_account.id'], name=op.f('fk_credit_name_correction_corrected_by_id_user_account')),
    sa.ForeignKeyConstraint(['credit_id'], ['credit.id'], name=op.f('fk_credit_name_correction_credit_id_credit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_name_correction'))
    )
    with op.batch_alter_table('credit_name_correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_name_correction_credit_id'), ['credit_id'], unique=False)

    with op.batch_alter_table('activity_evaluation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cycle', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('activity_evaluation', schema=None) as batch_op:
        batch_op.alter_column('cycle', existing_type=sa.Integer(), server_default=None)
        batch_op.drop_constraint('uq_activity_evaluation_user_id_module_id_content_version', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_activity_evaluation_user_id_module_id_content_version_cycle'),
            ['user_id', 'module_id', 'content_version', 'cycle'])

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_id', sa.Integer(), nullable=True))
        batch_op.alter_column('assignment_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_notification_credit_id'), ['credit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notification_credit_id_credit'), 'credit', ['credit_id'], ['id'])
    _sqlite_foreign_keys(True)


def downgrade():
    # Going back loses what the old schema cannot hold: the status history beyond the revocation in force,
    # name corrections (the credit keeps none) and credit notices. A credit earned again after a
    # revocation cannot be held at all, and earned credit is never deleted: then refuse.
    again = op.get_bind().execute(sa.text(
        "SELECT COUNT(*) FROM credit c WHERE EXISTS (SELECT 1 FROM credit o WHERE o.user_id = c.user_id "
        "AND o.module_id = c.module_id AND o.content_version = c.content_version AND o.id < c.id)")).scalar()
    if again:
        raise RuntimeError(f"{again} credits were earned again after a revocation; revision 0009 cannot hold them.")
    _sqlite_foreign_keys(False)
    op.execute("DELETE FROM outbox_email WHERE notification_id IN (SELECT id FROM notification "
               "WHERE assignment_id IS NULL)")
    op.execute("DELETE FROM notification WHERE assignment_id IS NULL")
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notification_credit_id_credit'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notification_credit_id'))
        batch_op.alter_column('assignment_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('credit_id')

    op.execute("DELETE FROM activity_evaluation WHERE cycle > 0")
    with op.batch_alter_table('activity_evaluation', schema=None) as batch_op:
        batch_op.drop_constraint('uq_activity_evaluation_user_id_module_id_content_version_cycle', type_='unique')
        batch_op.create_unique_constraint('uq_activity_evaluation_user_id_module_id_content_version',
                                          ['user_id', 'module_id', 'content_version'])
        batch_op.drop_column('cycle')

    with op.batch_alter_table('credit_name_correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_name_correction_credit_id'))
    op.drop_table('credit_name_correction')

    op.create_table('credit_revocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_id', sa.Integer(), nullable=False),
    sa.Column('revoked_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_by_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['credit_id'], ['credit.id'], name=op.f('fk_credit_revocation_credit_id_credit')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'], name=op.f('fk_credit_revocation_revoked_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_revocation')),
    sa.UniqueConstraint('credit_id', name=op.f('uq_credit_revocation_credit_id'))
    )
    op.execute("INSERT INTO credit_revocation (credit_id, revoked_at, revoked_by_id, reason) "
               "SELECT e.credit_id, e.at, e.actor_id, e.reason FROM credit_status_event e "
               "JOIN credit c ON c.id = e.credit_id WHERE c.revoked_at IS NOT NULL AND e.id = "
               "(SELECT MAX(l.id) FROM credit_status_event l WHERE l.credit_id = e.credit_id)")
    with op.batch_alter_table('credit_status_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_status_event_credit_id'))
    op.drop_table('credit_status_event')

    op.drop_index('uq_credit_earned', table_name='credit')
    with op.batch_alter_table('credit', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_credit_user_id_module_id_content_version',
                                          ['user_id', 'module_id', 'content_version'])
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('holder_nabp_id')
        batch_op.drop_column('holder_name')
    _sqlite_foreign_keys(True)

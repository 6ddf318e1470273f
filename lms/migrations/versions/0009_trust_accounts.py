"""trust: membership requests, server-side sessions, sign-in failures, API token expiry

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 20:20:00

"""
import secrets
from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('membership_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined')", name=op.f('ck_membership_request_status')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_membership_request_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_membership_request_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_membership_request_requested_by_id_user_account')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_membership_request_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_request'))
    )
    with op.batch_alter_table('membership_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_request_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_request_user_id'), ['user_id'], unique=False)
        # One pending request per cohort and trainee; decided ones stay as history.
        batch_op.create_index('uq_membership_request_pending', ['cohort_id', 'user_id'], unique=True,
                              sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('ended_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_session_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_user_session_key_hash'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index('ix_login_failure_account_ip_at', ['account', 'ip', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failure_at'), ['at'], unique=False)
        batch_op.create_index('ix_login_failure_ip_at', ['ip', 'at'], unique=False)

    # Tokens made before expiry existed get the default term from the day of the upgrade.
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', lms.db.UTCDateTime(timezone=True), nullable=True))
    tokens = sa.table('api_token', sa.column('expires_at', lms.db.UTCDateTime(timezone=True)))
    op.execute(tokens.update().values(expires_at=datetime.now(UTC) + timedelta(days=90)))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=lms.db.UTCDateTime(timezone=True), nullable=False)

    # Sessions are UserSession rows now; the rotating per-user token they replace goes. A plain
    # ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): batch mode would copy and drop user_account,
    # which SQLite's foreign keys refuse once other tables reference its rows.
    op.drop_column('user_account', 'session_token')


def downgrade():
    # Every account gets a fresh token (nobody is signed in under the old scheme). NOT NULL through a
    # server default: SQLite cannot add a NOT NULL column without one, nor alter it in place.
    op.add_column('user_account', sa.Column('session_token', sa.String(length=64), nullable=False,
                                            server_default=''))
    accounts = sa.table('user_account', sa.column('id', sa.Integer()), sa.column('session_token', sa.String(64)))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(accounts.c.id)).all():
        connection.execute(accounts.update().where(accounts.c.id == user_id)
                           .values(session_token=secrets.token_urlsafe(24)))

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('expires_at')

    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failure_ip_at')
        batch_op.drop_index(batch_op.f('ix_login_failure_at'))
        batch_op.drop_index('ix_login_failure_account_ip_at')
    op.drop_table('login_failure')

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
    op.drop_table('user_session')

    with op.batch_alter_table('membership_request', schema=None) as batch_op:
        batch_op.drop_index('uq_membership_request_pending')
        batch_op.drop_index(batch_op.f('ix_membership_request_user_id'))
        batch_op.drop_index(batch_op.f('ix_membership_request_cohort_id'))
    op.drop_table('membership_request')

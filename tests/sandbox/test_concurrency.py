"""Parallel writes to one sandbox instance: real threads, each with its own client and database connection, lined up
on a barrier so the requests really overlap. A file-based SQLite database (or PostgreSQL when configured), never the
in-memory one.
"""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.db import utcnow
from lms.extensions import db
from lms.sandbox.core import services
from lms.sandbox.core.models import AuditEntry, Lot, SandboxInstance
from lms.sandbox.core.schema import SPECS
from tests.conftest import create_user, csrf_token, login, make_app, reset_database, shared_database_url

TICKET = "new-supplier-ndc-not-linked"


@pytest.fixture
def shared_app(tmp_path):
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=shared_database_url(tmp_path))
    reset_database(app)
    with app.app_context():
        user = create_user("trainee", name="Tess Trainee")
        instance, _ = services.start_ticket(db.session, user.id, services.get_tickets().get(TICKET), utcnow())
        db.session.commit()
        ids = user.id, instance.id
        db.session.remove()
    return app, *ids


def _clients(app, user_id: int, n: int) -> list[tuple]:
    """``n`` signed-in clients of the same trainee, each with the CSRF token its next form post needs."""
    with app.app_context():
        email = db.session.get(User, user_id).email
        db.session.remove()
    first = app.test_client()
    login(first, email)  # once: scrypt is slow on purpose; the others share the signed-in session cookie
    cookie = first.get_cookie(app.config["SESSION_COOKIE_NAME"], domain=app.config["SERVER_NAME"])
    out = [(first, csrf_token(first))]
    for _ in range(n - 1):
        client = app.test_client()
        client.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
        out.append((client, csrf_token(client)))
    return out


def _race(calls) -> list:
    """Run every call in its own thread, all released at once; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - reported below as that call's result
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _count(model, instance_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(model.instance_id == instance_id))


def test_ten_parallel_creates_in_one_instance_all_succeed_with_distinct_ids(shared_app):
    app, user_id, instance_id = shared_app
    with app.app_context():
        instance = db.session.get(SandboxInstance, instance_id)
        world = services.instance_world(db.session, instance, utcnow())
        product = world.by_key("sb_product", "99998-113-10").id
        lots_before = _count(Lot, instance_id)
        db.session.remove()
    clients = _clients(app, user_id, 10)
    expires = (utcnow() + timedelta(days=400)).date().isoformat()

    def create(client, token, n):
        return client.post(f"/sandbox/w/{instance_id}/screens/lots/new", data={
            "csrf_token": token, "product_id": str(product), "lot_number": f"RACE{n:02d}", "expires_on": expires,
            "status": "available", "change_request": ""}).status_code

    statuses = _race([lambda c=c, t=t, n=n: create(c, t, n) for n, (c, t) in enumerate(clients)])
    assert statuses == [302] * 10
    with app.app_context():
        lots = db.session.scalars(select(Lot).where(Lot.instance_id == instance_id,
                                                    Lot.lot_number.like("RACE%"))).all()
        assert sorted(lot.lot_number for lot in lots) == [f"RACE{n:02d}" for n in range(10)]
        assert len({lot.id for lot in lots}) == 10
        assert _count(Lot, instance_id) == lots_before + 10
        audits = db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == instance_id)).all()
        assert sorted(a.row_id for a in audits) == sorted(lot.id for lot in lots)
        db.session.remove()


def test_four_parallel_resets_count_four_and_leave_the_seed_intact(shared_app):
    app, user_id, instance_id = shared_app
    clients = _clients(app, user_id, 4)
    statuses = _race([lambda c=c, t=t: c.post(f"/sandbox/w/{instance_id}/reset", data={"csrf_token": t}).status_code
                      for c, t in clients])
    assert statuses == [302] * 4
    with app.app_context():
        instance = db.session.get(SandboxInstance, instance_id)
        assert instance.resets == 4
        dataset = services.get_tickets().get(TICKET).dataset
        counts = {spec.name: _count(spec.model, instance_id) for spec in SPECS}
        assert counts == {spec.name: len(dataset.rows[spec.name]) for spec in SPECS}
        assert instance.next_row_id == dataset.first_free_id()
        db.session.remove()

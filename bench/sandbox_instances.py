"""Sandbox instances: build, reset and grade, alone and with 5,000 trainees each holding an instance.

Budgets (DESIGN.md, issue 7): an instance created or reset with the full seed in <= 50 ms; a grading run in
<= 50 ms; with 5,000 instances in the database the rest of the site (and one trainee's workspace) does not slow.
The baseline, measured in the same run, is the cheapest sandbox transaction there is: one instance row inserted and
committed. Timings are medians; the 5,000 copies are made with bulk INSERT ... SELECT so the run stays short.
"""

import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select, text

from lms import create_app
from lms.accounts.models import User
from lms.accounts.services import hash_password
from lms.db import utcnow
from lms.extensions import db
from lms.sandbox.core import services
from lms.sandbox.core.models import SandboxInstance
from lms.sandbox.core.schema import SPECS
from lms.sandbox.core.tickets import grade_world

TRAINEES = int(os.environ.get("BENCH_SANDBOX_TRAINEES", "5000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
BUDGET_MS = 50.0


def median_ms(fn, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def add_users(n: int, offset: int) -> list[int]:
    db.session.execute(insert(User), [{"email": f"bench{offset + i}@sandbox.test", "name": f"Bench {offset + i}",
                                       "role": "trainee"} for i in range(n)])
    db.session.commit()
    return list(db.session.scalars(select(User.id).where(User.email.like("bench%")).order_by(User.id)))[-n:]


def fill(template_id: int, ticket, users: list[int]) -> None:
    """One instance per user, copied from ``template_id`` table by table in bulk (the same rows start_ticket makes)."""
    now = utcnow()
    db.session.execute(insert(SandboxInstance), [{"user_id": u, "ticket_id": ticket.id,
                                                  "ticket_version": ticket.version, "created_at": now,
                                                  "next_row_id": ticket.dataset.first_free_id()} for u in users])
    db.session.commit()
    low, high = db.session.execute(select(func.min(SandboxInstance.id), func.max(SandboxInstance.id))
                                   .where(SandboxInstance.user_id.in_(users))).one()
    instances = SandboxInstance.__table__
    for spec in SPECS:
        table = spec.table
        columns = [c for c in table.columns if c.name != "instance_id"]
        rows = (select(instances.c.id, *columns)
                .select_from(table.join(instances, instances.c.id.between(low, high)))
                .where(table.c.instance_id == template_id))
        db.session.execute(insert(table).from_select(["instance_id", *[c.name for c in columns]], rows))
    db.session.commit()


def measure(app, client, instance_id: int, tickets) -> dict:
    with app.app_context():
        users = add_users(ROUNDS + 1, offset=int(time.time() * 1000) % 10**9)
        ticket = tickets.get("new-supplier-ndc-not-linked")
        made = iter(users)

        def create():
            services.start_ticket(db.session, next(made), ticket, utcnow())
            db.session.commit()

        def baseline():
            db.session.add(SandboxInstance(user_id=users[-1], ticket_id=f"probe-{time.perf_counter_ns()}",
                                           ticket_version="x", created_at=utcnow()))
            db.session.commit()

        instance = db.session.get(SandboxInstance, instance_id)

        def reset():
            services.reset_instance(db.session, instance, ticket, utcnow())
            db.session.commit()

        out = {"baseline": median_ms(baseline), "create": median_ms(create), "reset": median_ms(reset)}
        worst = 0.0
        for t in tickets.tickets:
            probe, _ = services.start_ticket(db.session, users[-1], t, utcnow())
            db.session.commit()

            def grade(probe=probe, t=t):
                return grade_world(services.instance_world(db.session, probe, utcnow()), t, users[-1])

            worst = max(worst, median_ms(grade, 10))
        out["grade"] = worst
    for _ in range(5):  # warm-up
        client.get("/home")
    out["workspace"] = median_ms(lambda: client.get(f"/sandbox/w/{instance_id}/screens/pockets"), 50)
    out["home"] = median_ms(lambda: client.get("/home"), 50)
    out["sandbox_home"] = median_ms(lambda: client.get("/sandbox/"), 50)
    return out


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'sandbox.sqlite3'}", "SECRET_KEY": "bench",
                      "INSTANCE_PATH": str(tmp)})
    with app.app_context():
        db.create_all()
        tickets = services.get_tickets()
        trainee = User(email="me@sandbox.test", name="Me", role="trainee", password_hash=hash_password("bench-pw"))
        db.session.add(trainee)
        db.session.commit()
        mine, _ = services.start_ticket(db.session, trainee.id, tickets.get("new-supplier-ndc-not-linked"), utcnow())
        db.session.commit()
        instance_id = mine.id
        rows = sum(len(r) for r in tickets.get("new-supplier-ndc-not-linked").dataset.rows.values())
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"csrf_token": token, "email": "me@sandbox.test", "password": "bench-pw"})
    assert client.get(f"/sandbox/w/{instance_id}/screens/pockets").status_code == 200
    before = measure(app, client, instance_id, tickets)

    started = time.perf_counter()
    with app.app_context():
        ticket = tickets.get("new-supplier-ndc-not-linked")
        for chunk in range(0, TRAINEES, 1000):
            fill(instance_id, ticket, add_users(min(1000, TRAINEES - chunk), offset=chunk))
        total = db.session.scalar(text("SELECT count(*) FROM sb_instance"))
        # A bulk load leaves a large write-ahead log that slows every read until it is checkpointed; a running site
        # checkpoints continuously, so measure the steady state.
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.execute(text("ANALYZE"))
        stored = sum(db.session.scalar(select(func.count()).select_from(s.table)) for s in SPECS)
    filled = time.perf_counter() - started
    after = measure(app, client, instance_id, tickets)

    def verdict(ms):
        return "OK" if ms <= BUDGET_MS else "OVER BUDGET"

    print(f"sandbox_instances: {rows} seed rows per instance; baseline (one instance row committed) "
          f"{before['baseline']:.1f} ms")
    print(f"  create {before['create']:.1f} ms ({before['create'] / before['baseline']:.0f}x baseline), "
          f"reset {before['reset']:.1f} ms, slowest ticket's grading {before['grade']:.1f} ms; "
          f"budget <= {BUDGET_MS:.0f} ms: {verdict(max(before['create'], before['reset'], before['grade']))}")
    print(f"  filled to {total} instances ({stored:,} sandbox rows) in {filled:.0f} s")
    print(f"  with {total} instances: create {after['create']:.1f} ms, reset {after['reset']:.1f} ms, "
          f"grading {after['grade']:.1f} ms; "
          f"budget: {verdict(max(after['create'], after['reset'], after['grade']))}")
    for name, label in (("workspace", "a trainee's pockets screen"), ("home", "trainee home page"),
                        ("sandbox_home", "sandbox ticket list")):
        print(f"  {label}: {before[name]:.1f} ms with 1 instance, {after[name]:.1f} ms with {total}, "
              f"ratio {after[name] / before[name]:.2f}")


if __name__ == "__main__":
    main()

"""Fixtures for the accounts tests: the demo's two pharmacies with a trainee who has records."""

import pytest

from lms.accounts.models import CohortMember
from lms.curricula.models import Assignment, Curriculum, CurriculumItem
from lms.db import utcnow
from lms.extensions import db
from lms.progress.models import Credit
from lms.sandbox.core.services import get_tickets, start_ticket
from tests.conftest import create_cohort, create_user, post_form


def add_member(client, cohort, email):
    return post_form(client, f"/cohorts/{cohort.id}", {"member-email": email, "member-submit": "1"})


def is_member(cohort, user) -> bool:
    db.session.expire_all()
    return db.session.query(CohortMember).filter_by(cohort_id=cohort.id, user_id=user.id).count() == 1


@pytest.fixture
def pharmacy(app):
    """The demo's shape: Main Pharmacy (supervisor) with a trainee who has records; Satellite (supervisor2)."""
    supervisor, supervisor2 = create_user("supervisor"), create_user("supervisor")
    trainee = create_user("trainee", name="Jordan Lee", nabp_eprofile_id="7654321", birth_mmdd="0415")
    main = create_cohort("Main Pharmacy", supervisors=[supervisor], trainees=[trainee])
    satellite = create_cohort("Satellite Pharmacy", supervisors=[supervisor2])
    credit = Credit(user_id=trainee.id, module_id="alpha", content_version="v1", module_version="1.0",
                    activity_title="Alpha module", activity_number="0000-0000-26-001-H04-T",
                    activity_type="knowledge", topic_code="04", topics=[], contact_hours=0.5, ceus=0.05,
                    score_percent=100.0, completed_at=utcnow(), verification_code="7K3M-9QXR-2PWD")
    curriculum = Curriculum(name="Onboarding", owner_id=supervisor.id)
    curriculum.items.append(CurriculumItem(position=1, kind="module", ref_id="alpha"))
    db.session.add_all([credit, curriculum])
    db.session.flush()
    individual = Assignment(curriculum_id=curriculum.id, user_id=trainee.id, start_on=utcnow().date(),
                            due_on=utcnow().date(), curriculum_version=1, created_by_id=supervisor.id)
    db.session.add(individual)
    db.session.commit()
    instance, _ = start_ticket(db.session, trainee.id, get_tickets().get("new-supplier-ndc-not-linked"), utcnow())
    db.session.commit()
    return {"supervisor": supervisor, "supervisor2": supervisor2, "trainee": trainee, "main": main,
            "satellite": satellite, "credit_id": credit.id, "assignment_id": individual.id,
            "instance_id": instance.id}



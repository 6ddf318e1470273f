"""What the sandbox's page tests share: a signed-in trainee, and starting a ticket the way the page does."""

import pytest

from lms.extensions import db
from lms.sandbox.core.models import SandboxInstance
from tests.conftest import create_user, login, post_form

TICKET = "new-supplier-ndc-not-linked"  # ticket 1: no change control


def start(client, ticket_id: str = TICKET) -> SandboxInstance:
    """Press "Start this ticket" and return the instance the redirect names."""
    response = post_form(client, f"/sandbox/tickets/{ticket_id}/start")
    assert response.status_code == 302
    return db.session.get(SandboxInstance, int(response.location.rsplit("/", 1)[1]))


@pytest.fixture
def trainee(client):
    user = create_user("trainee", name="Tess Trainee")
    login(client, user)
    return user

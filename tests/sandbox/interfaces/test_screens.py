"""The interface screens through the web: message browser, message detail, replay, test-message tool, queue."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.db import utcnow
from lms.extensions import db
from lms.sandbox.core import services as core
from lms.sandbox.core.models import CodeMap, InterfaceEvent, InterfaceMessage, Order
from lms.sandbox.interfaces import services
from lms.sandbox.interfaces.display import ack_entries, message_view
from lms.sandbox.interfaces.forms import MAX_TEST_MESSAGE, with_terminators
from tests.conftest import create_user, login, post_form
from tests.sandbox.conftest import start

CONTROLLED = "par-level-zero"  # change_control: required


def rde(control_id: str, order: str, give: str = "EHR-99001^pantoprazole 40 mg tablet^EHR") -> str:
    return (f"MSH|^~\\&|EHR|RCH|PHARMACY|RCH|20261204080000||RDE^O11^RDE_O11|{control_id}|P|2.5.1\r"
            "PID|1||M200417^^^RCH^MR||Ellison^Robert||19580322|M\r"
            "PV1|1|I|4W^412^A||||||||||||||||V7003\r"
            f"ORC|NW|{order}|||||||20261204080000\r"
            f"RXE||{give}|40||MG|TAB\rTQ1|1||DAILY\rRXR|PO\r")


@pytest.fixture
def instance(client, trainee):
    return start(client)


def receive(instance, user, raw: str, channel: str = "RX-IN", at=None) -> int:
    message_id, _outcome = services.receive_message(db.session, instance, channel, raw,
                                                    core.Actor(user.id, user.name), at or utcnow())
    db.session.commit()
    return message_id


def stored(instance, message_id: int) -> InterfaceMessage:
    db.session.expire_all()
    return db.session.get(InterfaceMessage, (instance.id, message_id))


def add_drug_map(client, instance, external: str = "EHR-99001", internal: str = "FAMO20T", **extra):
    world = core.instance_world(db.session, instance, utcnow())
    rx = next(c for c in world.table("sb_interface_channel").values() if c.name == "RX-IN")
    return post_form(client, f"/sandbox/w/{instance.id}/screens/code_maps/new",
                     {"channel_id": str(rx.id), "code_type": "drug", "external_code": external,
                      "internal_code": internal, "active": "y", "change_request": "", **extra})


def rows_of(html: str) -> list[str]:
    """The control ids listed in the message browser, in page order."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'/interfaces/messages/\d+">([^<]+)</a>', body)


PAGES = ["/interfaces/messages", "/interfaces/messages/1", "/interfaces/test-message",
         "/interfaces/verification-queue"]


@pytest.mark.parametrize("path", PAGES)
def test_each_interface_page_renders_for_its_owner_and_is_404_for_another_trainee(app, client, instance, path):
    response = client.get(f"/sandbox/w/{instance.id}{path}")
    assert response.status_code == 200
    assert "Interfaces" in response.text and "Message browser" in response.text
    other = app.test_client()
    login(other, create_user("trainee"))
    assert other.get(f"/sandbox/w/{instance.id}{path}").status_code == 404


def test_another_trainee_cannot_replay_verify_or_send_into_the_instance(app, client, trainee, instance):
    message_id = receive(instance, trainee, rde("RX-T-1", "ORD-30001"))
    other = app.test_client()
    login(other, create_user("trainee"))
    for url, data in ((f"/sandbox/w/{instance.id}/interfaces/messages/replay", {"message_id": str(message_id)}),
                      (f"/sandbox/w/{instance.id}/interfaces/verification-queue/verify",
                       {"order_id": "1", "pharmacist": "rph.okafor"}),
                      (f"/sandbox/w/{instance.id}/interfaces/test-message",
                       {"channel": "RX-IN", "terminators": "cr", "message": rde("RX-T-9", "ORD-30009")})):
        assert post_form(other, url, data).status_code == 404
    db.session.expire_all()
    events = db.session.scalars(select(InterfaceEvent).where(InterfaceEvent.instance_id == instance.id)).all()
    assert [e.kind for e in events] == ["received"]


def test_the_workspace_lists_the_interface_pages_and_the_browser_instead_of_the_generic_message_editor(
        client, instance):
    page = client.get(f"/sandbox/w/{instance.id}").text
    nav = page.split('aria-label="Pharmacy system screens"', 1)[1].split("</nav>", 1)[0]
    interfaces = nav.split(">Interfaces<", 1)[1]
    for label in ("Message browser", "Send a test message", "Verification queue", "Code maps",
                  "Interface channels"):
        assert label in interfaces
    assert "/screens/interface_messages" not in nav
    assert "/screens/code_maps" in nav and "/screens/products" in nav.split(">Interfaces<", 1)[0]


def test_the_browser_lists_newest_first_with_the_row_facts(client, trainee, instance):
    now = utcnow()
    receive(instance, trainee, rde("RX-OLD-1", "ORD-30001"), at=now - timedelta(minutes=5))
    receive(instance, trainee, rde("RX-NEW-2", "ORD-30002"), at=now)
    page = client.get(f"/sandbox/w/{instance.id}/interfaces/messages").text
    listed = rows_of(page)
    assert listed[:2] == ["RX-NEW-2", "RX-OLD-1"]
    row = page.split("RX-NEW-2</a>", 1)[1].split("</tr>", 1)[0]
    assert "M200417" in row and "error · AE" in row and "103 RXE^1^2" in row
    assert 'name="message_id"' in page.split("RX-NEW-2", 1)[0].rsplit("<tr", 1)[1]


def test_filters_by_channel_status_type_patient_control_id_and_date(client, trainee, instance):
    receive(instance, trainee, rde("RX-T-1", "ORD-30001"))
    url = f"/sandbox/w/{instance.id}/interfaces/messages"
    everything = rows_of(client.get(url).text)
    assert "RX-T-1" in everything and "ADT20261124000117" in everything
    assert rows_of(client.get(url, query_string={"status": "error"}).text) == ["RX-T-1"]
    by_channel = rows_of(client.get(url, query_string={"channel": "ADT-IN"}).text)
    assert by_channel and all(c.startswith("ADT") for c in by_channel)
    by_type = rows_of(client.get(url, query_string={"type": "ADT^A03"}).text)
    assert by_type == ["ADT20261124000198"]
    by_patient = rows_of(client.get(url, query_string={"mrn": "m200402"}).text)
    assert by_patient == ["ADT20261124000198"], "MRN matches whole, ignoring case"
    assert rows_of(client.get(url, query_string={"control": "t-1"}).text) == ["RX-T-1"]
    today = utcnow().date()
    assert rows_of(client.get(url, query_string={"start": today.isoformat()}).text) == ["RX-T-1"]
    older = rows_of(client.get(url, query_string={"end": (today - timedelta(days=1)).isoformat()}).text)
    assert "RX-T-1" not in older and older


@pytest.mark.parametrize("query, message", [
    ({"start": "2026-02-30"}, "The received-from date is not a real date"),
    ({"end": "9999-12-31"}, "The received-to date must be between"),
    ({"start": "2026-03-02", "end": "2026-03-01"}, "is before the received-from date"),
    ({"channel": "NOPE"}, "There is no channel &#39;NOPE&#39;"),
    ({"status": "fixed"}, "The status must be one of"),
    ({"mrn": "M\x07"}, "Remove the control character U+0007"),
])
def test_bad_filter_input_is_a_message_on_the_page(client, instance, query, message):
    response = client.get(f"/sandbox/w/{instance.id}/interfaces/messages", query_string=query)
    assert response.status_code == 400
    assert message in response.text and 'aria-invalid="true"' in response.text
    assert rows_of(response.text) == []


def test_replay_runs_the_selection_oldest_first_whatever_order_it_was_picked_in(client, trainee, instance):
    now = utcnow()
    older = receive(instance, trainee, rde("RX-A-1", "ORD-30001"), at=now - timedelta(minutes=10))
    newer = receive(instance, trainee, rde("RX-B-2", "ORD-30001", "EHR-99001^pantoprazole^EHR").replace(
        "ORC|NW|", "ORC|XO|"), at=now - timedelta(minutes=5))
    assert add_drug_map(client, instance).status_code == 302
    response = post_form(client, f"/sandbox/w/{instance.id}/interfaces/messages/replay",
                         {"message_id": [str(newer), str(older)], "status": "error"})
    assert response.status_code == 302 and response.location.endswith("/interfaces/messages?status=error")
    page = client.get(response.location).text
    assert "Replayed 2 messages, oldest first: RX-A-1 AE → AA; RX-B-2 AE → AA." in page
    db.session.expire_all()
    replays = db.session.scalars(select(InterfaceEvent).where(InterfaceEvent.instance_id == instance.id,
                                                              InterfaceEvent.kind == "replayed")
                                 .order_by(InterfaceEvent.id)).all()
    assert [e.message_id for e in replays] == [older, newer], "the new order first, then its change"
    assert (stored(instance, older).ack_code, stored(instance, newer).ack_code) == ("AA", "AA")


def test_replay_refuses_outbound_and_empty_selections_and_changes_nothing(client, trainee, instance):
    world = core.instance_world(db.session, instance, utcnow())
    outbound = next(m for m in world.table("sb_interface_message").values() if m.control_id.startswith("CAB"))
    url = f"/sandbox/w/{instance.id}/interfaces/messages/replay"
    page = client.get(post_form(client, url, {"message_id": str(outbound.id)}).location).text
    assert "Nothing was replayed" in page and "only inbound messages replay" in page
    page = client.get(post_form(client, url, {}).location).text
    assert "Select one or more inbound messages to replay." in page
    assert "Select one or more" in client.get(post_form(client, url, {"message_id": "²"}).location).text
    assert db.session.scalars(select(InterfaceEvent).where(InterfaceEvent.instance_id == instance.id)).all() == []
    browser = client.get(f"/sandbox/w/{instance.id}/interfaces/messages").text
    cab_row = browser.split(f">{outbound.control_id}</a>", 1)[0].rsplit("<tr", 1)[1]
    assert 'type="checkbox"' not in cab_row, "an outbound message cannot be selected"


def test_the_detail_shows_the_raw_segments_the_named_fields_the_ack_errors_and_a_map_link(client, trainee,
                                                                                          instance):
    message_id = receive(instance, trainee, rde("RX-T-1", "ORD-30001"))
    page = client.get(f"/sandbox/w/{instance.id}/interfaces/messages/{message_id}").text
    raw = page.split('aria-label="Raw message, one segment a line">', 1)[1].split("</pre>", 1)[0]
    assert raw.splitlines()[0].startswith("MSH|^~\\&amp;|EHR") and raw.splitlines()[4].startswith("RXE||EHR-99001")
    for label in ("RXE-2</span> Give Code", "RXE-3</span> Give Amount - Minimum", "RXE-5</span> Give Units",
                  "PV1-3</span> Assigned Patient Location", "PV1-19</span> Visit Number",
                  "ORC-1</span> Order Control", "ORC-2</span> Placer Order Number", "TQ1-3</span> Repeat Pattern",
                  "RXR-1</span> Route", "MSH-9</span> Message Type", "MSH-10</span> Message Control ID"):
        assert label in page, label
    assert "RXE-2.1</span> <span class=\"mono\">EHR-99001" in page, "components are listed apart"
    err_table = page.split('class="err-table"', 1)[1].split("</table>", 1)[0]
    assert "<strong>103</strong> Table value not found" in err_table and "RXE^1^2" in err_table
    assert "MSA|AE|RX-T-1" in page
    assert "code_type=drug" in page and "external_code=EHR-99001" in page
    history = page.split('id="hist-h"', 1)[1]
    assert "received" in history and "Tess Trainee" in history and "AE" in history


def test_a_message_that_cannot_be_parsed_shows_the_raw_text_and_the_reason(client, trainee, instance):
    message_id = receive(instance, trainee, "PID|1||M200417\rMSH|not a header\r")
    page = client.get(f"/sandbox/w/{instance.id}/interfaces/messages/{message_id}").text
    assert "The message cannot be parsed:" in page and "does not begin with an MSH segment" in page
    assert "PID|1||M200417" in page


def test_raw_text_cannot_be_edited_from_any_screen(client, trainee, instance):
    message_id = receive(instance, trainee, rde("RX-T-1", "ORD-30001"))
    detail = client.get(f"/sandbox/w/{instance.id}/interfaces/messages/{message_id}").text
    assert "<textarea" not in detail and 'name="raw"' not in detail
    generic = client.get(f"/sandbox/w/{instance.id}/screens/interface_messages")
    assert generic.status_code == 302 and generic.location.endswith("/interfaces/messages")
    row = client.get(f"/sandbox/w/{instance.id}/screens/interface_messages/{message_id}")
    assert row.status_code == 302 and row.location.endswith(f"/interfaces/messages/{message_id}")
    fixed = rde("RX-T-1", "ORD-30001", "EHR-31007^famotidine^EHR")
    response = post_form(client, f"/sandbox/w/{instance.id}/screens/interface_messages/{message_id}",
                         {"raw": fixed, "status": "processed", "change_request": ""})
    assert response.status_code == 302 and response.location.endswith(f"/interfaces/messages/{message_id}")
    page = client.get(response.location).text
    assert "Raw messages are immutable" in page and "not marked processed by hand" in page
    assert "<textarea" not in page and 'name="raw"' not in page
    assert (stored(instance, message_id).raw, stored(instance, message_id).status) == \
        (rde("RX-T-1", "ORD-30001"), "error")


def test_the_test_message_tool_turns_browser_line_breaks_into_cr_and_shows_the_ack_and_changes(client, instance):
    add_drug_map(client, instance)
    typed = rde("RX-T-7", "ORD-30007").replace("\r", "\r\n")  # what a browser posts from a text area
    response = post_form(client, f"/sandbox/w/{instance.id}/interfaces/test-message",
                         {"channel": "RX-IN", "terminators": "cr", "message": typed})
    assert response.status_code == 302
    message = db.session.scalar(select(InterfaceMessage).where(InterfaceMessage.instance_id == instance.id,
                                                               InterfaceMessage.control_id == "RX-T-7"))
    assert message.raw == rde("RX-T-7", "ORD-30007") and "\n" not in message.raw
    assert (message.status, message.ack_code) == ("processed", "AA")
    page = client.get(response.location).text
    assert "ACK AA for" in page and "MSA|AA|RX-T-7" in page
    assert "order ORD-30007" in page and "waiting for pharmacist verification" in page
    assert f"/interfaces/messages/{message.id}" in page
    assert "nobody can type a bare CR" in page


def test_the_test_message_tool_can_send_lf_terminators_to_test_a_channels_normalise_setting(client, instance):
    url = f"/sandbox/w/{instance.id}/interfaces/test-message"
    typed = rde("RX-LF-1", "ORD-30011", "EHR-31007^famotidine 20 mg tablet^EHR").replace("\r", "\r\n")
    post_form(client, url, {"channel": "RX-IN", "terminators": "lf", "message": typed})
    message = db.session.scalar(select(InterfaceMessage).where(InterfaceMessage.control_id == "RX-LF-1"))
    assert "\r" not in message.raw and message.raw.count("\n") == 7
    assert message.ack_code == "AR" and "not CR as HL7 requires" in message.error
    assert "100 MSH^1" in client.get(f"/sandbox/w/{instance.id}/interfaces/messages?control=RX-LF").text


@pytest.mark.parametrize("data, message", [
    ({"message": ""}, "Paste a message to send (it is empty)."),
    ({"message": " \r\n \r\n"}, "Paste a message to send (it is empty)."),
    ({"message": "M" * (MAX_TEST_MESSAGE + 1)}, "longer than 50,000 characters"),
    ({"message": "MSH|\x0b"}, "Remove the control character U+000B"),
    ({"channel": "CAB-OUT"}, "Not a valid choice"),
])
def test_empty_oversized_or_misdirected_test_messages_are_form_errors_and_store_nothing(client, instance, data,
                                                                                        message):
    form = {"channel": "RX-IN", "terminators": "cr", "message": rde("RX-T-1", "ORD-30001"), **data}
    response = post_form(client, f"/sandbox/w/{instance.id}/interfaces/test-message", form)
    assert response.status_code == 200 and message in response.text and 'aria-invalid="true"' in response.text
    assert db.session.scalars(select(InterfaceEvent).where(InterfaceEvent.instance_id == instance.id)).all() == []


def test_with_terminators_rebuilds_each_line_as_one_segment():
    assert with_terminators("MSH|a\r\nPID|b\r\n\r\n", "\r") == "MSH|a\rPID|b\r"
    assert with_terminators("MSH|a\rPID|b", "\n") == "MSH|a\nPID|b\n"
    assert with_terminators("MSH|a\nPID|b\n", "\r\n") == "MSH|a\r\nPID|b\r\n"


def test_the_verification_queue_shows_a_replayed_order_and_a_simulated_pharmacist_verifies_it(client, trainee,
                                                                                               instance):
    message_id = receive(instance, trainee, rde("RX-T-1", "ORD-30001"))
    queue = f"/sandbox/w/{instance.id}/interfaces/verification-queue"
    assert "ORD-30001" not in client.get(queue).text
    add_drug_map(client, instance)
    post_form(client, f"/sandbox/w/{instance.id}/interfaces/messages/replay", {"message_id": str(message_id)})
    page = client.get(queue).text
    row = page.split("ORD-30001", 1)[1].split("</tr>", 1)[0]
    # a 4 West order is verified in the central pharmacy (PHARM) queue
    assert "Robert Ellison" in row and "famotidine" in row.lower() and "PHARM" in row and "waiting" in row
    order = db.session.scalar(select(Order).where(Order.instance_id == instance.id,
                                                  Order.order_number == "ORD-30001"))
    refused = client.get(post_form(client, f"{queue}/verify", {"order_id": str(order.id),
                                                                "pharmacist": "cpht.nguyen"}).location).text
    assert "Choose a pharmacist who may verify orders." in refused
    done = client.get(post_form(client, f"{queue}/verify", {"order_id": str(order.id),
                                                             "pharmacist": "rph.okafor"}).location).text
    assert "ORD-30001 verified by Adaeze Okafor, PharmD (simulated)" in done and "CAB-OUT" in done
    db.session.expire_all()
    assert db.session.get(Order, (instance.id, order.id)).verified_by == "rph.okafor"
    again = client.get(post_form(client, f"{queue}/verify", {"order_id": str(order.id),
                                                              "pharmacist": "rph.okafor"}).location).text
    assert "Only a pending order can be verified." in again


def test_code_maps_are_added_changed_and_retired_through_their_screen(client, trainee, instance):
    assert client.get(f"/sandbox/w/{instance.id}/screens/code_maps").status_code == 200
    refused = add_drug_map(client, instance, internal="NOSUCH")
    assert refused.status_code == 200 and "is not a code the pharmacy system knows" in refused.text
    response = add_drug_map(client, instance)
    assert response.status_code == 302
    row_id = int(response.location.rsplit("/", 1)[1])
    form = client.get(response.location).text
    assert 'name="internal_code"' in form and "Active" in form
    world = core.instance_world(db.session, instance, utcnow())
    rx = next(c for c in world.table("sb_interface_channel").values() if c.name == "RX-IN")
    base = {"channel_id": str(rx.id), "code_type": "drug", "external_code": "EHR-99001", "change_request": ""}
    assert post_form(client, response.location, {**base, "internal_code": "METO25T", "active": "y"}).status_code \
        == 302
    assert post_form(client, response.location, {**base, "internal_code": "METO25T"}).status_code == 302  # retired
    db.session.expire_all()
    code_map = db.session.get(CodeMap, (instance.id, row_id))
    assert (code_map.internal_code, code_map.active) == ("METO25T", False)
    message_id = receive(instance, trainee, rde("RX-T-1", "ORD-30001"))
    assert stored(instance, message_id).ack_code == "AE", "a retired map maps nothing"


def test_channel_settings_render_and_save(client, instance):
    world = core.instance_world(db.session, instance, utcnow())
    rx = next(c for c in world.table("sb_interface_channel").values() if c.name == "RX-IN")
    listing = client.get(f"/sandbox/w/{instance.id}/screens/interface_channels").text
    assert "RX-IN" in listing and "CAB-OUT" in listing
    url = f"/sandbox/w/{instance.id}/screens/interface_channels/{rx.id}"
    assert "Normalise line endings" in client.get(url).text
    response = post_form(client, url, {"normalize_line_endings": "y", "reject_duplicates": "y", "active": "y",
                                       "change_request": ""})
    assert response.status_code == 302
    world = core.instance_world(db.session, instance, utcnow())
    assert world.get("sb_interface_channel", rx.id).normalize_line_endings is True


def test_under_change_control_a_new_map_needs_an_approved_change_request(client, trainee):
    instance = start(client, CONTROLLED)
    refused = add_drug_map(client, instance)
    assert refused.status_code == 200 and "under change control" in refused.text
    assert add_drug_map(client, instance, change_request="CR-NOPE").status_code == 200
    response = post_form(client, f"/sandbox/w/{instance.id}/change-requests/new", {
        "title": "Map the EHR pantoprazole orderable", "reason": "RX-IN rejects pantoprazole orders with AE 103.",
        "risk": "Low: one new map; retire it to back out.",
        "test_plan": "Send a test RDE with EHR-99001 and replay the failed order; expect AA and the order queued."})
    assert response.status_code == 302
    world = core.instance_world(db.session, instance, utcnow())
    reference = max(c.reference for c in world.table("sb_change_request").values() if c.status == "approved")
    assert add_drug_map(client, instance, change_request=reference).status_code == 302


def test_display_reads_err_entries_and_fields_without_the_web():
    code, control_id, entries = ack_entries("MSH|^~\\&|PHARMACY|RCH|EHR|RCH|20261204||ACK^O11^ACK|ACK1|P|2.5.1\r"
                                            "MSA|AE|RX-T-1\r"
                                            "ERR||RXE^1^2|103^Table value not found^HL70357|E||||No map for "
                                            "\\S\\x\\F\\y\r")
    assert (code, control_id) == ("AE", "RX-T-1")
    assert entries[0]["location"] == "RXE^1^2" and entries[0]["text"] == "No map for ^x|y"
    assert (entries[0]["segment"], entries[0]["sequence"], entries[0]["field"]) == ("RXE", 1, 2)
    view = message_view(rde("RX-T-1", "ORD-1"), entries)
    rxe = next(s for s in view.segments if s.segment_id == "RXE")
    give = next(f for f in rxe.fields if f.number == 2)
    assert give.name == "Give Code" and give.repetitions == [["EHR-99001", "pantoprazole 40 mg tablet", "EHR"]]
    assert give.issues and give.issues[0]["code"] == "103"
    msh = view.segments[0]
    assert [(f.number, f.value) for f in msh.fields[:3]] == [(1, "|"), (2, "^~\\&"), (3, "EHR")]


def test_a_new_code_map_form_starts_active_as_the_column_default(client, instance):
    """A trainee who fills in a new map and saves gets an active map, not a retired one."""
    form = client.get(f"/sandbox/w/{instance.id}/screens/code_maps/new").text
    assert re.search(r'<input[^>]*checked[^>]*id="active"|<input[^>]*id="active"[^>]*checked', form)

"""`lms sandbox hl7 receive` and `listen`: the engine on the healthy seed from the command line and over MLLP."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import hl7
import pytest
from hl7.client import MLLPClient

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "hl7"
BIN = Path(sys.executable).parent

# A message written the way the seed's EHR writes them, every coded field mapped on RX-IN: it files an order.
ORDER = ("MSH|^~\\&|EHR|RCH|PHARMACY|RCH|20261204080000||RDE^O11^RDE_O11|RX-CLI-1|P|2.5.1\r"
         "PID|1||M200417^^^RCH^MR||Ellison^Robert||19580322|M\r"
         "PV1|1|I|4W^412^A||||||||||||||||V7003\r"
         "ORC|NW|ORD-20001|||||||20261204080000\r"
         "RXE||EHR-31007^famotidine 20 mg tablet^EHR|20||MG|TAB\r"
         "TQ1|1||BID\r"
         "RXR|PO\r")
# A demographics update for a patient in the seed (ADT-IN, chosen from MSH-9).
UPDATE = ("MSH|^~\\&|EHR|RCH|PHARMACY|RCH|20261204081000||ADT^A08^ADT_A01|ADT-CLI-8|P|2.5.1\r"
          "EVN|A08|20261204081000\r"
          "PID|1||M200417^^^RCH^MR||Ellison^Robert||19580322|M\r"
          "PV1|1|I|4W^412^A||||||||||||||||V7003\r")
# A new patient's admission, then an order for them: over MLLP the second sees the first.
ADMIT = ("MSH|^~\\&|EHR|RCH|PHARMACY|RCH|20261204090000||ADT^A01^ADT_A01|ADT-CLI-1|P|2.5.1\r"
         "EVN|A01|20261204090000\r"
         "PID|1||M209999^^^RCH^MR||Quill^Avery||19700101|F\r"
         "PV1|1|I|ICU^07||||||||||||||||V7999\r")
ORDER_FOR_ADMITTED = ORDER.replace("RX-CLI-1", "RX-CLI-2").replace("M200417", "M209999") \
    .replace("Ellison^Robert", "Quill^Avery").replace("4W^412^A", "ICU^07").replace("V7003", "V7999") \
    .replace("ORD-20001", "ORD-20002")

# Each fixture on the channel MSH-9 picks (both strict, as seeded): the ACK code and errors it must name.
FIXTURE_ACKS = {
    "adt-a01-lf.hl7": ("AR", "102", {"100^Segment sequence error^HL70357 at MSH^1"}),
    "adt-a01-crlf.hl7": ("AR", "102", {"100^Segment sequence error^HL70357 at MSH^1"}),
    "adt-a02-evn-mismatch-lf.hl7": ("AR", "controlID", {"100^Segment sequence error^HL70357 at MSH^1"}),
    "rde-o11-ceftriaxone.hl7": ("AE", "MSGID_bae9ce6a-e35d-4ff5-8d50-c5dde19cc1aa", {
        "103^Table value not found^HL70357 at RXE^1^2", "103^Table value not found^HL70357 at RXE^1^5",
        "204^Unknown key identifier^HL70357 at PID^1^3"}),
}


def ack_of(output: str) -> hl7.Message:
    lines = [line for line in output.splitlines() if line]
    assert lines and lines[0].startswith("MSH|"), output
    return hl7.parse("\r".join(lines))


def errors_of(ack: hl7.Message) -> set[str]:
    return {f"{seg[3]} at {seg[2]}" for seg in ack if str(seg[0]) == "ERR" and str(seg[4]) == "E"}


def run(runner, *args):
    return runner.invoke(args=["sandbox", "hl7", "receive", *map(str, args)])


def test_every_fixture_gets_its_ack_on_the_channel_msh9_names(runner):
    assert sorted(p.name for p in FIXTURES.glob("*.hl7")) == sorted(FIXTURE_ACKS), "a fixture without a test"
    for name, (code, control_id, expected) in FIXTURE_ACKS.items():
        result = run(runner, FIXTURES / name)
        assert result.exit_code == 3, (name, result.output)
        ack = ack_of(result.stdout)
        assert [str(f) for f in ack.segment("MSA")[1:3]] == [code, control_id], name
        assert expected <= errors_of(ack), (name, result.stdout)


def test_the_same_file_on_a_normalising_channel_is_read_and_reports_what_is_unmapped(runner):
    strict = run(runner, FIXTURES / "adt-a01-lf.hl7", "--no-normalize")
    normalised = run(runner, FIXTURES / "adt-a01-lf.hl7", "--normalize")
    assert str(ack_of(strict.stdout).segment("MSA")[1]) == "AR"
    ack = ack_of(normalised.stdout)
    assert normalised.exit_code == 3 and str(ack.segment("MSA")[1]) == "AE"
    assert "103^Table value not found^HL70357 at PV1^1^3" in errors_of(ack)


def test_a_fully_mapped_seed_style_order_is_aa_each_run_against_a_fresh_seed(runner, tmp_path):
    message = tmp_path / "order.hl7"
    message.write_bytes(ORDER.encode())
    first, second = run(runner, message), run(runner, message)
    for result in (first, second):  # nothing is stored: the second run is not a duplicate of the first
        assert result.exit_code == 0, result.output
        ack = ack_of(result.stdout)
        assert [str(f) for f in ack.segment("MSA")[1:3]] == ["AA", "RX-CLI-1"]
        assert not [s for s in ack if str(s[0]) == "ERR"]
    assert len(first.stdout.splitlines()) == 2, "one segment a line: MSH and MSA"


def test_the_channel_comes_from_msh9_unless_given(runner, tmp_path):
    message = tmp_path / "a08.hl7"
    message.write_bytes(UPDATE.encode())
    assert run(runner, message).exit_code == 0
    wrong = run(runner, message, "--channel", "rx-in")
    assert wrong.exit_code == 3
    assert "200^Unsupported message type^HL70357 at MSH^1^9" in errors_of(ack_of(wrong.stdout))


@pytest.mark.parametrize("content", [b"", b" \r\n\t "])
def test_an_empty_file_is_a_usage_error_on_one_line(runner, tmp_path, content):
    empty = tmp_path / "empty.hl7"
    empty.write_bytes(content)
    result = run(runner, empty)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"Error: {empty} is empty."]


def test_a_missing_file_a_directory_and_an_unknown_channel_are_usage_errors(runner, tmp_path):
    for args, text in (([tmp_path / "nope.hl7"], "no such file"), ([tmp_path], "is a directory"),
                       ([FIXTURES / "rde-o11-ceftriaxone.hl7", "--channel", "CAB-OUT"], "No inbound channel"),
                       ([FIXTURES / "rde-o11-ceftriaxone.hl7", "--channel", "LAB-IN"], "No inbound channel")):
        result = run(runner, *args)
        assert result.exit_code == 2, (args, result.output)
        assert len(result.stderr.splitlines()) == 1 and text in result.stderr, result.stderr
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("junk", [bytes(range(256)) * 3, b"\xff\xfe\x00M\x00S\x00H", b"MSH", b"MSH|^~\\&|\x00\r\n\r",
                                  b"\x0bMSH|^~\\&|A|B|C|D|2026||RDE^O11|\xe9\xe8|P|2.5.1\rPID|\x1c\r",
                                  b"MSH|^~\\&|A|B|C|D|2026||RDE^O11|C-1|P|2.5.1\r" + b"X" * 200_000])
def test_binary_junk_gets_an_ar_and_never_a_traceback(runner, tmp_path, junk):
    path = tmp_path / "junk.bin"
    path.write_bytes(junk)
    result = run(runner, path)
    assert isinstance(result.exception, SystemExit) and result.exit_code == 3, result.output
    assert str(ack_of(result.stdout).segment("MSA")[1]) in ("AR", "AE")
    assert "Traceback" not in result.output


# --- listen --------------------------------------------------------------------------------------------------------

def frames(output: bytes) -> list[hl7.Message]:
    """The ACKs mllp_send printed (each framed <VT> ... <FS><CR>)."""
    return [hl7.parse(block.strip(b"\x0b\r\n").decode()) for block in output.split(b"\x1c") if block.strip()]


@pytest.fixture
def server():
    """`lms sandbox hl7 listen --port 0` in a subprocess, stopped (Ctrl-C, then kill) whatever the test does."""
    with subprocess.Popen([BIN / "lms", "sandbox", "hl7", "listen", "--port", "0"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=ROOT) as process:
        try:
            banner = process.stdout.readline().decode()
            found = re.match(r"Listening for MLLP on 127\.0\.0\.1:(\d+) ", banner)
            assert found, (banner, process.stderr.read1().decode())
            yield process, int(found.group(1))
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()


def test_listen_answers_each_message_over_mllp_and_stops_cleanly_on_ctrl_c(server, tmp_path):
    process, port = server
    names = sorted(FIXTURE_ACKS)
    batch = tmp_path / "batch.hl7"  # mllp_send's input: messages each ended by <FS>
    batch.write_bytes(b"".join((FIXTURES / n).read_bytes() + b"\x1c" for n in names)
                      + b"".join(m.encode() + b"\x1c" for m in (ORDER, ORDER, ADMIT, ORDER_FOR_ADMITTED)))
    sent = subprocess.run([BIN / "mllp_send", "-p", str(port), "-f", batch, "127.0.0.1"], capture_output=True,
                          timeout=20)
    assert sent.returncode == 0, sent.stderr
    acks = frames(sent.stdout)
    msa = [[str(f) for f in ack.segment("MSA")[1:3]] for ack in acks]
    assert msa[:4] == [list(FIXTURE_ACKS[n][:2]) for n in names]
    for name, ack in zip(names, acks, strict=False):
        assert FIXTURE_ACKS[name][2] <= errors_of(ack), name
    assert msa[4:] == [["AA", "RX-CLI-1"], ["AA", "RX-CLI-1"], ["AA", "ADT-CLI-1"], ["AA", "RX-CLI-2"]]
    duplicate = [s for s in acks[5] if str(s[0]) == "ERR"]
    assert [str(s[3][0][0]) for s in duplicate] == ["205"], "the resend is acknowledged as a duplicate"
    assert not [s for s in acks[7] if str(s[0]) == "ERR"], "the order for the patient admitted just before files"

    # hl7.client.MLLPClient on the same server; then a block without its <VT> start still gets an answer.
    with MLLPClient("127.0.0.1", port) as client:
        ack = hl7.parse(client.send_message(UPDATE).strip(b"\x0b\x1c\r").decode())
        assert [str(f) for f in ack.segment("MSA")[1:3]] == ["AA", "ADT-CLI-8"]
        unframed = client.send(UPDATE.encode() + b"\x1c\r").strip(b"\x0b\x1c\r").decode()
        assert str(hl7.parse(unframed).segment("MSA")[1]) == "AR"

    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=5)
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err and out.decode().rstrip().endswith("Stopped.")
    assert "RX-CLI-1 RDE^O11 -> AA" in out.decode(), "one log line per message"

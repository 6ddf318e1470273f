"""`lms sandbox hl7 ...`: the interface engine from the command line and over MLLP, on the healthy seed in memory.

    receive FILE   one message (the file's bytes as they are) against a fresh copy of the healthy seed; prints the
                   ACK one segment a line. Exit 0 for AA, 3 for AE or AR, 2 for a usage error.
    listen         an MLLP server (python-hl7's asyncio streams) on 127.0.0.1 answering each message with its ACK.

No database is read or written: the seed is loaded from the sandbox folder into a World, and ``engine.process`` and
``engine.build_ack`` do the rest, exactly as they do for an instance (the same code path the screens use).
"""

import asyncio
from datetime import datetime
from pathlib import Path

import click
import hl7.mllp
from flask import current_app
from flask.cli import AppGroup

from lms.db import utcnow
from lms.sandbox.core.seed import load_seed
from lms.sandbox.core.world import Rec, World
from lms.sandbox.interfaces.engine import (
    CHANNEL_MESSAGES,
    NewRow,
    Outcome,
    build_ack,
    channel_by_name,
    control_id_of,
    process,
)
from lms.sandbox.interfaces.issues import Issue
from lms.sandbox.interfaces.receive import MLLP_FRAME
from lms.sandbox.interfaces.services import MAX_MESSAGE_BYTES

hl7_cli = AppGroup("hl7", help="The HL7 v2 interface engine on the healthy seed in memory (nothing is stored).")

INBOUND = tuple(CHANNEL_MESSAGES)  # ADT-IN, RX-IN
CHANNEL_BY_MESSAGE = {code: name for name, codes in CHANNEL_MESSAGES.items() for code in codes}
DEFAULT_CHANNEL = "RX-IN"  # when MSH-9 names neither ADT nor RDE: the engine answers AR 200 there


class UsageError(Exception):
    """A usage problem the command reports on one line (exit 2)."""


def channel_for(data: bytes | str) -> str:
    """The inbound channel a message belongs on, from MSH-9 of its first line (ADT -> ADT-IN, RDE -> RX-IN)."""
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    line = text.lstrip(MLLP_FRAME + "\ufeff \t\r\n").replace("\n", "\r").split("\r", 1)[0]
    if not line.startswith("MSH") or len(line) < 5:
        return DEFAULT_CHANNEL
    parts = line.split(line[3])
    component = parts[1][:1] if len(parts) > 1 and parts[1] else "^"
    code = parts[8].split(component)[0].strip().upper() if len(parts) > 8 else ""
    return CHANNEL_BY_MESSAGE.get(code, DEFAULT_CHANNEL)


def healthy_seed(root: Path, now: datetime) -> dict[str, list[dict]]:
    """The seed's rows (no ticket's fault planted) for ``now``."""
    data, problems = load_seed(root / "seed", root)
    if problems:
        raise UsageError(f"The sandbox seed has {len(problems)} problem(s); run `lms sandbox check`: {problems[0]}")
    return data.materialize(now)


class Hospital:
    """The mock hospital's pharmacy system in memory: a World over a copy of the seed rows, and the engine over it.

    ``receive(..., keep=True)`` keeps what an accepted message changed in the World (new rows get fresh ids, the
    message is recorded as applied under its control id), so the next message sees it: an admission and then an
    order for the new patient, or a resend answered as a duplicate. Nothing is written to a database.
    """

    def __init__(self, rows: dict[str, list[dict]], now: datetime):
        self.world = World.from_rows({table: [dict(r) for r in rs] for table, rs in rows.items()}, now)
        self.next_id = 1 + max((r["id"] for rs in rows.values() for r in rs), default=0)

    def channel(self, name: str, normalize: bool | None = None) -> Rec:
        channel = channel_by_name(self.world, name)
        if channel is None or channel.direction != "inbound":
            raise UsageError(f"No inbound channel {name!r}; the inbound channels are {', '.join(INBOUND)}.")
        return channel if normalize is None else Rec({**channel, "normalize_line_endings": normalize})

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def receive(self, data: bytes | str, channel_name: str | None = None, normalize: bool | None = None,
                keep: bool = False, now: datetime | None = None) -> tuple[Outcome, str]:
        """Process one message and build its ACK: (outcome, ACK text with CR-terminated segments)."""
        if now is not None:
            self.world.now = now
        channel = self.channel(channel_name or channel_for(data), normalize)
        try:
            outcome = process(self.world, channel, data)
        except Exception as error:  # process never raises; should it, the sender still gets an answer
            outcome = Outcome(control_id_of(data), None, "AR", [Issue(207, "MSH", 1, text=f"Application internal "
                                                                     f"error ({type(error).__name__}).")])
        if keep:
            self.keep(channel, outcome)
        return outcome, build_ack(outcome, self.world.now, f"ACK{self._id()}")

    def keep(self, channel: Rec, outcome: Outcome) -> None:
        """Store an outcome's changes in the World, as services._write_changes stores them in an instance."""
        tags: dict[str, int] = {}
        for change in outcome.changes:
            values = {k: (tags[v.tag] if isinstance(v, NewRow) else v) for k, v in change.values.items()}
            row_id = self._id() if change.action == "insert" else change.row_id
            if change.tag:
                tags[change.tag] = row_id
            self.world.store(change.table, {"id": row_id, **values})
        if outcome.changes:
            self.world.store("sb_interface_message", {
                "id": self._id(), "channel_id": channel.id, "control_id": outcome.control_id,
                "applied_control_id": outcome.control_id if channel.reject_duplicates else None,
                "message_type": outcome.message_type, "status": "processed", "ack_code": outcome.ack_code})


def _hospital(now: datetime) -> Hospital:
    return Hospital(healthy_seed(Path(current_app.config["SANDBOX_DIR"]), now), now)


def _fail(message: str, code: int = 2):
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)


def _read(file: str) -> bytes:
    path = Path(file)
    try:
        if path.is_dir():
            raise UsageError(f"{file} is a directory, not a message file.")
        if path.stat().st_size > MAX_MESSAGE_BYTES:
            raise UsageError(f"{file} is larger than {MAX_MESSAGE_BYTES:,} bytes.")
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{file}: no such file.") from None
    except OSError as error:
        raise UsageError(f"{file}: {error.strerror or error}.") from None
    if not data.strip():
        raise UsageError(f"{file} is empty.")
    return data


channel_option = click.option(
    "--channel", metavar="RX-IN|ADT-IN",
    help="The inbound channel. Default: from MSH-9 (ADT messages on ADT-IN, RDE on RX-IN).")
normalize_option = click.option(
    "--normalize/--no-normalize", default=None,
    help="Override the channel's line-ending setting (accept CRLF and bare LF terminators, or CR only).")


@hl7_cli.command("receive")
@click.argument("file")
@channel_option
@normalize_option
def receive_command(file: str, channel: str | None, normalize: bool | None) -> None:
    """Run the message in FILE (its bytes as they are) through the engine against a fresh copy of the healthy
    seed and print the ACK, one segment a line. Nothing is stored.

    Exit status: 0 for AA, 3 for AE or AR, 2 for a usage error (a missing or empty file, an unknown channel).
    """
    try:
        data = _read(file)
        hospital = _hospital(utcnow())
        outcome, ack = hospital.receive(data, channel.upper() if channel else None, normalize)
    except UsageError as error:
        _fail(str(error))
    for segment in ack.split("\r"):
        if segment:
            click.echo(segment)
    raise SystemExit(0 if outcome.ack_code == "AA" else 3)


# --- MLLP ----------------------------------------------------------------------------------------------------------

def framing_error(text: str) -> Outcome:
    """An AR for a block that could not be read as one framed message (no MSH to name)."""
    return Outcome("", None, "AR", [Issue(100, "MSH", 1, text=text)])


async def serve(hospital: Hospital, host: str, port: int, channel: str | None, normalize: bool | None,
                started=None, log=None) -> None:
    """Answer MLLP clients until cancelled: each framed message gets its ACK, framed, on the same connection.

    ``started(server)`` is called once the socket listens; ``log(line)`` once per message.
    """
    async def client(reader: hl7.mllp.HL7StreamReader, writer: hl7.mllp.HL7StreamWriter) -> None:
        try:
            while True:
                try:
                    block = await reader.readblock()
                except asyncio.IncompleteReadError as error:
                    if error.partial.strip(b"\x0b\x1c\r\n \t"):
                        log and log("connection closed inside a message (no <FS><CR> end block); not answered")
                    break
                except hl7.mllp.InvalidBlockError:
                    outcome = framing_error("The MLLP block did not begin with <VT> (0x0B); frame each message as "
                                            "<VT> message <FS><CR>.")
                    ack = build_ack(outcome, utcnow(), f"ACK{hospital._id()}")
                except ValueError:  # over the reader's limit
                    outcome = framing_error(f"The message is larger than {MAX_MESSAGE_BYTES:,} bytes.")
                    ack = build_ack(outcome, utcnow(), f"ACK{hospital._id()}")
                else:
                    outcome, ack = hospital.receive(block, channel, normalize, keep=True, now=utcnow())
                log and log(f"{outcome.control_id or '(no control id)'} {outcome.message_type or '?'} -> "
                            f"{outcome.ack_code}" + (f" {outcome.summary}" if outcome.ack_code != "AA" else ""))
                writer.writeblock(ack.encode("utf-8"))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await hl7.mllp.start_hl7_server(client, host, port, limit=MAX_MESSAGE_BYTES)
    async with server:
        if started:
            started(server)
        await server.serve_forever()


@hl7_cli.command("listen")
@click.option("--port", type=click.IntRange(0, 65535), required=True,
              help="TCP port (0: any free port, printed on start).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@channel_option
@normalize_option
def listen_command(port: int, host: str, channel: str | None, normalize: bool | None) -> None:
    """Serve the engine over MLLP: each message is answered with its ACK (AA, AE or AR with ERR segments).

    The engine runs against the healthy seed in memory. What accepted messages change is kept in memory for as long
    as the server runs (so an admission and then an order for that patient both apply, and a resend is a
    duplicate); nothing is stored, and every start is a fresh copy of the seed. Ctrl-C stops the server.
    """
    try:
        hospital = _hospital(utcnow())
        if channel:
            channel = channel.upper()
            hospital.channel(channel)
    except UsageError as error:
        _fail(str(error))

    def started(server) -> None:
        bound = server.sockets[0].getsockname()
        click.echo(f"Listening for MLLP on {bound[0]}:{bound[1]} "
                   f"({channel or 'channel by MSH-9'}); nothing is stored. Ctrl-C stops.")

    try:
        asyncio.run(serve(hospital, host, port, channel, normalize, started, click.echo))
    except KeyboardInterrupt:
        click.echo("Stopped.")
    except OSError as error:
        _fail(f"Cannot listen on {host}:{port}: {error.strerror or error}.")

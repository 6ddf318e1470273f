"""The "send a test message" tool's form, and how it rebuilds segment terminators a browser cannot send."""

import re

from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from lms.validation import FlaskForm

# A pasted message, not a file: real RDE and ADT messages are a few kilobytes. (The engine itself takes up to
# services.MAX_MESSAGE_BYTES from the command line and MLLP.)
MAX_TEST_MESSAGE = 50_000

# A browser sends every line break of a text area as CR LF, whatever was pasted, and nobody can type a bare CR:
# the tool rebuilds the segment ends the trainee chooses, so a channel's "normalise line endings" can be tested.
TERMINATORS = {"cr": "\r", "lf": "\n", "crlf": "\r\n"}
TERMINATOR_CHOICES = tuple(SelectChoice(value, label) for value, label in (
    ("cr", "CR, as HL7 requires (each line break becomes a carriage return)"),
    ("lf", "LF, as some senders send (each line break becomes a line feed)"),
    ("crlf", "CR LF, as a Windows text file has")))


def with_terminators(text: str, terminator: str) -> str:
    """Each line of ``text`` (whatever line breaks it has) one segment, ended by ``terminator``; blank lines go."""
    lines = [line for line in re.split(r"\r\n|\r|\n", text) if line.strip()]
    return "".join(line + terminator for line in lines)


class SendMessageForm(FlaskForm):
    channel = SelectField("Channel", validators=[InputRequired(message="Choose the channel it arrives on.")])
    terminators = SelectField("Segment terminators", choices=TERMINATOR_CHOICES, default="cr")
    message = TextAreaField(
        "HL7 message", validators=[DataRequired(message="Paste a message to send (it is empty)."),
                                   Length(max=MAX_TEST_MESSAGE,
                                          message=f"The message is longer than {MAX_TEST_MESSAGE:,} characters: "
                                                  "paste one message, not a batch or a file.")],
        description="One segment a line, starting with MSH. It is stored and processed like a message from the "
                    "sender: it can change your instance (that is the point: see what it would do).")


"""The mark-as-read form. It carries a signed timestamp of when the page was served."""

from wtforms import HiddenField, SubmitField

from lms.validation import FlaskForm


class MarkReadForm(FlaskForm):
    opened = HiddenField()
    submit = SubmitField("Mark as read and continue")

"""The mark-as-read form. It carries a signed timestamp of when the page was served."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField


class MarkReadForm(FlaskForm):
    opened = HiddenField()
    submit = SubmitField("Mark as read and continue")

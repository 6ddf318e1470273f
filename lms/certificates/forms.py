"""Forms for verification, revocation and cohort exports."""

from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from lms.validation import FlaskForm


class RevokeForm(FlaskForm):
    reason = TextAreaField("Reason for revoking (kept on record and in the audit log)",
                           validators=[InputRequired("Give the reason for revoking."), Length(min=5, max=500)])
    submit = SubmitField("Revoke credit")


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False  # a public GET lookup changes nothing

    code = StringField("Verification code", validators=[InputRequired(), Length(max=40)],
                       render_kw={"autocomplete": "off", "placeholder": "XXXX-XXXX-XXXX",
                                  "autocapitalize": "characters"})

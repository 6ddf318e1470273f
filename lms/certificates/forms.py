"""Forms for verification, revocation and cohort exports."""

from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from lms.validation import FlaskForm, Name


class RevokeForm(FlaskForm):
    reason = TextAreaField("Reason for revoking (kept on record and in the audit log)",
                           validators=[InputRequired("Give the reason for revoking."), Length(min=5, max=500)])
    submit = SubmitField("Revoke credit")


class ReinstateForm(FlaskForm):
    reason = TextAreaField("Reason for reinstating (kept on record and in the audit log)",
                           validators=[InputRequired("Give the reason for reinstating."), Length(min=5, max=500)])
    submit = SubmitField("Reinstate credit")


class NameCorrectionForm(FlaskForm):
    name = StringField("Name as it should appear on the certificate",
                       validators=[InputRequired("Enter the corrected name."), Length(max=120), Name()],
                       render_kw={"autocomplete": "off"})
    nabp_eprofile_id = StringField("NABP e-Profile ID (6 to 10 digits; leave empty if none)",
                                   validators=[Optional(), Length(max=10)],
                                   render_kw={"autocomplete": "off", "inputmode": "numeric"})
    reason = TextAreaField("Reason for the correction (kept on record and in the audit log)",
                           validators=[InputRequired("Give the reason for the correction."), Length(min=5, max=500)])
    submit = SubmitField("Reissue with this name")


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False  # a public GET lookup changes nothing

    code = StringField("Verification code", validators=[InputRequired(), Length(max=40)],
                       render_kw={"autocomplete": "off", "placeholder": "XXXX-XXXX-XXXX",
                                  "autocapitalize": "characters"})

"""WTForms for sign-in, profile, admin user management and cohorts (CSRF via Flask-WTF)."""

from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, Optional, Regexp

from lms.access import ROLES
from lms.api.services import DEFAULT_TOKEN_DAYS, TOKEN_TERMS_DAYS
from lms.validation import FlaskForm, Name

ROLE_CHOICES = [SelectChoice(role, role.capitalize()) for role in ROLES]

# Shape only: one @, no spaces, a dot in the domain. Deliverability is proven by the
# set-password link, not by guessing at DNS.
Email = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter an email address like name@hospital.org.")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[InputRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField("Sign in")


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out")


class ProfileForm(FlaskForm):
    name = StringField("Full name (as it should appear on certificates)",
                       validators=[InputRequired(), Length(max=120), Name()], render_kw={"autocomplete": "name"},
                       description="Used on certificates issued from now on. A certificate already issued keeps "
                                   "the name it was issued under; an administrator can reissue it with a "
                                   "corrected name.")
    email = EmailField("Email", validators=[InputRequired(), Email, Length(max=254)],
                       render_kw={"autocomplete": "email"})
    nabp_eprofile_id = StringField(
        "NABP e-Profile ID (optional)", validators=[Optional(), Length(max=10)],
        description="6 to 10 digits, from your NABP e-Profile. Needed to report CE to CPE Monitor.",
        render_kw={"inputmode": "numeric", "autocomplete": "off"})
    birth_mmdd = StringField(
        "Birth month and day, MMDD (optional)", validators=[Optional(), Length(max=4)],
        description="For CE reporting only, e.g. 0415 for April 15.",
        render_kw={"inputmode": "numeric", "autocomplete": "off", "placeholder": "MMDD"})
    submit = SubmitField("Save profile")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[InputRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("New password", validators=[InputRequired(), Length(max=256)],
                                 description="At least 12 characters. A passphrase of several words works well.",
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Repeat the new password",
                            validators=[InputRequired(), EqualTo("new_password", "The two passwords differ.")],
                            render_kw={"autocomplete": "new-password"})
    revoke_tokens = BooleanField("Also revoke all my API tokens",
                                 description="Do this if you think someone else may know your password.")
    submit = SubmitField("Change password")


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[InputRequired(), Length(max=256)],
                             description="At least 12 characters. A passphrase of several words works well.",
                             render_kw={"autocomplete": "new-password", "autofocus": True})
    confirm = PasswordField("Repeat the password",
                            validators=[InputRequired(), EqualTo("password", "The two passwords differ.")],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Set password")


class UserForm(FlaskForm):
    name = StringField("Full name", validators=[InputRequired(), Length(max=120), Name()])
    email = EmailField("Email", validators=[InputRequired(), Email, Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[InputRequired()])
    submit = SubmitField("Save")


class CohortForm(FlaskForm):
    name = StringField("Cohort name", validators=[InputRequired(), Length(max=120), Name()])
    description = TextAreaField("Description (optional)", validators=[Optional(), Length(max=500)])
    supervisor_id = SelectField("Owning supervisor", coerce=int, validators=[InputRequired()])
    submit = SubmitField("Create cohort")


class AddMemberForm(FlaskForm):
    email = EmailField("Trainee's email", validators=[InputRequired(), Email, Length(max=254)])
    submit = SubmitField("Add trainee")


class AddSupervisorForm(FlaskForm):
    supervisor_id = SelectField("Supervisor", coerce=int, validators=[InputRequired()])
    submit = SubmitField("Add supervisor")


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[InputRequired(), Length(max=80), Name()],
                       description="Where you will use it, e.g. “transcript script”.")
    days = SelectField("Expires after", coerce=int, default=DEFAULT_TOKEN_DAYS,
                       choices=[SelectChoice(d, f"{d} days") for d in TOKEN_TERMS_DAYS])
    submit = SubmitField("Create token")

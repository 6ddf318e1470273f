"""Forms for building curricula and assigning them."""

from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from lms.curricula.kinds import ITEM_KINDS
from lms.validation import DateField, FlaskForm, Name, WholeNumberField


class CurriculumForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=120), Name()])
    description = TextAreaField("Description (optional)", validators=[Optional(), Length(max=1000)])
    submit = SubmitField("Create curriculum")


class ItemForm(FlaskForm):
    ref = SelectField("Item", validators=[InputRequired("Choose what to add.")])
    required = BooleanField("Required", default=True)
    min_score = WholeNumberField("Minimum score for a practice exam (%)", validators=[Optional()], low=0, high=100,
                                 description="Leave empty to use the exam's pass mark.")
    expected_minutes = WholeNumberField("Expected duration (minutes)", default=60, validators=[InputRequired()],
                                        low=1, high=6000)
    submit = SubmitField("Add item")

    def set_choices(self, options: dict[str, list[tuple[str, str]]]) -> None:
        """``options``: kind -> [(ref id, title)]; values are 'kind:ref'."""
        self.ref.choices = [SelectChoice(f"{kind}:{ref}", f"{ITEM_KINDS[kind].label}: {title}")
                            for kind, pairs in options.items() for ref, title in pairs]


class AssignForm(FlaskForm):
    target = SelectField("Assign to", validators=[InputRequired("Choose a cohort or trainee.")])
    start_on = DateField("Start date", validators=[InputRequired("Give a start date.")])
    due_on = DateField("Due date", validators=[InputRequired("Give a due date.")])
    submit = SubmitField("Assign")


class ExtendForm(FlaskForm):
    user_id = SelectField("Trainee", coerce=int, validators=[InputRequired()])
    due_on = DateField("New due date", validators=[InputRequired("Give the new due date.")])
    submit = SubmitField("Extend due date")

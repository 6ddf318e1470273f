"""The activity evaluation form, built for a module's objectives."""

from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from lms.validation import FlaskForm, WholeNumberField

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]
RELEVANCE = [SelectChoice("5", "5 – highly relevant"), SelectChoice("4", "4"),
             SelectChoice("3", "3 – somewhat relevant"), SelectChoice("2", "2"), SelectChoice("1", "1 – not relevant")]


def evaluation_form(module, formdata=None):
    """A form with one met/not-met question per objective plus the standard evaluation questions."""

    class EvaluationForm(FlaskForm):
        relevance = RadioField("How relevant was this activity to your practice?", choices=RELEVANCE,
                               validators=[InputRequired("Rate the relevance to your practice.")])
        free_of_bias = RadioField("Was the activity free of commercial bias?", choices=YES_NO,
                                  validators=[InputRequired("Say whether the activity was free of commercial bias.")])
        minutes_spent = WholeNumberField("How many minutes did you actually spend on this activity?",
                                         validators=[InputRequired("Enter the minutes you spent.")], low=1, high=1440,
                                         render_kw={"inputmode": "numeric"})
        comments = TextAreaField("Comments (optional)", validators=[Optional(), Length(max=2000)])
        submit = SubmitField("Submit evaluation")

    for objective in module.objectives:
        setattr(EvaluationForm, f"objective_{objective.id}", RadioField(
            objective.text, choices=YES_NO,
            validators=[InputRequired(f"Say whether objective {objective.id[1:]} was met.")]))
    return EvaluationForm(formdata=formdata) if formdata is not None else EvaluationForm()

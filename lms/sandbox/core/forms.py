"""Forms for the sandbox: one maintenance form per editor, built from its field list, and the replay tools."""

from wtforms import BooleanField, FloatField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from lms.sandbox.core.editing import Editor
from lms.sandbox.core.schema import BY_NAME
from lms.sandbox.core.world import World
from lms.sandbox.pharmacy.editors import STAFF_CHOICES
from lms.validation import DateField, FlaskForm, SafeText, WholeNumberField, parse_int

# Barcode data carries the GS1 group separator (U+001D) between element strings; other control characters are
# refused as in every text field.
BARCODE_TEXT = SafeText(allow="\x1d")
BARCODE_COLUMNS = {("sb_barcode", "value"), ("sb_robot_item", "expected_barcode")}


def _none_or_int(value):
    if value in (None, "", "None"):
        return None
    if isinstance(value, int):
        return value
    number = parse_int(value)
    if number is None:
        raise ValueError("not an id")
    return number


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def ref_choices(world: World, table: str) -> list[tuple[int, str]]:
    if table == "sb_drug":
        return sorted(((d.id, f"{world.drug_label(d.id)} ({d.code})") for d in world.table(table).values()),
                      key=lambda c: c[1].casefold())
    if table == "sb_product":
        return [(p.id, f"{p.ndc10} {world.drug_label(p.drug_id)} {p.package_quantity} {p.package_unit}"
                 + ("" if p.active else " (inactive)")) for p in world.table(table).values()]
    if table == "sb_cabinet":
        return [(c.id, c.name) for c in world.table(table).values()]
    return [(r.id, world.key_of(table, r)) for r in world.table(table).values()]


def editor_form(editor: Editor, world: World, creating: bool, formdata=None, data: dict | None = None) -> FlaskForm:
    """A WTForms form for ``editor``; ``data`` holds the current row in the editor's column names."""

    class EditorForm(FlaskForm):
        pass

    initial = {}
    for f in editor.fields:
        if f.on_create_only and not creating:
            continue
        required = [InputRequired(message=f"{f.label} is required.")] if f.required and f.kind != "bool" else \
            [Optional()]
        kwargs = {"label": f.label, "description": f.help}
        if f.kind == "text":
            # Barcode data is longer than the GTIN it is stored as; the service checks stored lengths.
            limit = max(getattr(BY_NAME[editor.table].table.c[f.column].type, "length", None) or 0, 200)
            barcode = [BARCODE_TEXT] if (editor.table, f.column) in BARCODE_COLUMNS else []
            field = (TextAreaField if f.name == "resolution_note" else StringField)(
                validators=[*required, Length(max=limit), *barcode], **kwargs)
        elif f.kind == "int":
            field = WholeNumberField(validators=required, low=0, high=f.high, **kwargs)
        elif f.kind == "float":
            field = FloatField(validators=required, **kwargs)
        elif f.kind == "bool":
            field = BooleanField(**kwargs)
        elif f.kind == "date":
            field = DateField(validators=required, **kwargs)
        elif f.kind == "ref":
            pairs = ref_choices(world, f.ref)
            if not f.required:
                pairs = [(None, "(none)"), *pairs]
            field = SelectField(choices=choices(pairs), coerce=_none_or_int,
                                validators=[] if not f.required else required,
                                validate_choice=True, **kwargs)
        else:  # choice
            if f.choices == STAFF_CHOICES:
                pairs = [(s.username, f"{s.name} ({s.role})") for s in world.table("sb_staff").values()]
            else:
                pairs = list(f.choices)
            coerce = _none_or_int if any(isinstance(v, int) for v, _l in pairs) else str
            field = SelectField(choices=choices(pairs), coerce=coerce, validators=[], **kwargs)
        setattr(EditorForm, f.column, field)
        if data is not None and f.column in data:
            initial[f.column] = data[f.column]
    EditorForm.change_request = StringField(
        "Change request", validators=[Optional(), Length(max=40)],
        description="The approved change request this change belongs to (e.g. CR-2026-00512). Required when the "
                    "system is under change control; raise one under Change requests.")
    return EditorForm(formdata=formdata, data=initial)


class ChangeRequestForm(FlaskForm):
    """Raise a change request; the service's simulated board decides whether it is complete enough to approve."""

    title = StringField("Title", validators=[InputRequired(message="Title is required."), Length(max=200)],
                        description="What will change, in a line.")
    reason = TextAreaField("Reason for the change", validators=[InputRequired(message="Reason is required."),
                                                                 Length(max=1000)],
                           description="The problem it fixes, and who reported it.")
    risk = TextAreaField("Risk and back-out plan", validators=[InputRequired(message="Risk is required."),
                                                                Length(max=500)],
                         description="What could go wrong for patients or other systems, and how you would undo it.")
    test_plan = TextAreaField("Test plan", validators=[InputRequired(message="Test plan is required."),
                                                        Length(max=1000)],
                              description="How you will show the change works and broke nothing else: which scans "
                                          "or replays you will run and what you expect.")


class ScanForm(FlaskForm):
    class Meta:
        csrf = False  # read-only tool submitted with GET; nothing changes

    data = TextAreaField("Barcode data", validators=[InputRequired(), Length(max=200), BARCODE_TEXT],
                         description="Type or paste what the scanner sends. Write the group separator as <GS>.")


class RemovalForm(FlaskForm):
    class Meta:
        csrf = False

    cabinet = SelectField("Cabinet", coerce=int)
    drug = SelectField("Drug", coerce=int)
    patient = SelectField("Patient", coerce=int)


class RobotForm(FlaskForm):
    class Meta:
        csrf = False

    cell = SelectField("Robot cell")
    data = StringField("Barcode data on the package", validators=[Optional(), Length(max=200), BARCODE_TEXT])

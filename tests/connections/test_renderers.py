"""The dialog's renderer writes what Django's widget templates write, widget by widget."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django import forms
from django.forms.renderers import get_default_renderer
from django.template import Context, Template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from connections import renderers
from connections.forms import ConnectionForm
from connections.models import SyncConnection
from connections.renderers import DIALOG_RENDERER, field_error_boxes
from connections.services import TestOutcome
from connectors.base import TestResult, TestStatus

TRICKY = "a \"quoted\" <b>&amp;</b> 'value'"

WIDGETS = [
    (forms.TextInput(), "Branch ERP"),
    (forms.TextInput(), None),
    (forms.TextInput(attrs={"autofocus": True, "maxlength": 100, "required": False}), TRICKY),
    (forms.TextInput(attrs={"placeholder": gettext_lazy("Name"), "data-x": mark_safe("<i>")}), 0),
    (forms.NumberInput(attrs={"min": 1, "max": 60, "step": Decimal("0.01")}), 10),
    (forms.NumberInput(), Decimal("1234.50")),
    (forms.URLInput(), "https://erp.example.com/api?a=1&b=2"),
    (forms.PasswordInput(attrs={"autocomplete": "new-password"}), "secret"),
    (forms.PasswordInput(render_value=True), "secret"),
    (forms.HiddenInput(), ""),
    (forms.EmailInput(), "jane@example.com"),
    (forms.CheckboxInput(), True),
    (forms.CheckboxInput(), False),
    (
        forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        datetime.datetime(2026, 12, 2, 1, 30),
    ),  # fmt: skip
    (forms.Textarea(attrs={"rows": 3}), f"line one\n{TRICKY}"),
    (forms.Textarea(), ""),
    (forms.Select(choices=[("none", "None"), ("bearer", gettext_lazy("Bearer token"))]), "bearer"),
    (forms.Select(choices=[(1, 1234), (2, TRICKY), ("", "---------")]), 2),
    (forms.Select(choices=[("Group", [("a", "A"), ("b", "B")]), ("c", "C")]), "b"),
    (forms.Select(choices=[]), None),
    (forms.SelectMultiple(choices=[("a", "A"), ("b", "B")]), ["a", "b"]),
    (forms.RadioSelect(choices=[("all", "All"), ("specific", gettext_lazy("Specific"))]), "all"),
    (forms.CheckboxSelectMultiple(choices=[("a", "A"), ("b", TRICKY)]), ["b"]),
]


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize(("widget", "value"), WIDGETS)
def test_the_dialog_renderer_writes_what_djangos_templates_write(widget, value, language):
    with override(language):
        attrs = {"id": "id_field", "aria-describedby": "id_field_helptext"}
        expected = widget.render("field", value, attrs, renderer=get_default_renderer())
        assert widget.render("field", value, attrs, renderer=DIALOG_RENDERER) == expected


def test_the_dialog_renderer_writes_radio_buttons_one_by_one_as_django_does():
    class Form(forms.Form):
        scope = forms.ChoiceField(
            choices=[("all", "All"), ("specific", TRICKY)], widget=forms.RadioSelect
        )

    def radios(renderer):
        bound = Form(initial={"scope": "all"}, renderer=renderer)["scope"]
        return [(str(radio.tag()), str(radio)) for radio in bound]

    assert radios(DIALOG_RENDERER) == radios(get_default_renderer())


@pytest.mark.django_db
@pytest.mark.parametrize("connector", ["rest_json", "tryton", "example_erp", "product_register"])
def test_the_connection_form_renders_as_with_djangos_renderer(connector):
    form = ConnectionForm(connector_key=connector)
    assert form.renderer is DIALOG_RENDERER
    django_form = ConnectionForm(connector_key=connector, renderer=get_default_renderer())
    for name in form.fields:
        assert str(form[name]) == str(django_form[name]), name


def test_field_error_boxes_escape_the_errors_and_write_empty_boxes_to_clear_old_ones():
    html = field_error_boxes({"name": ["<b>taken</b>", "too long"], "description": []})
    assert html == (
        '<div class="field-error" id="error-name" hx-swap-oob="true">'
        "<span>&lt;b&gt;taken&lt;/b&gt;</span><span>too long</span></div>\n"
        '<div class="field-error" id="error-description" hx-swap-oob="true"></div>\n'
    )


# The *Test result* box as the dialog's template wrote it before it moved to Python.
TEST_RESULT_TEMPLATE = (Path(__file__).parent / "reference" / "test_result.html").read_text()


def _outcome(status, **result):
    return TestOutcome(result=TestResult(status=status, **result), proof=None, fingerprint="f" * 64)


OUTCOMES = [
    (None, []),
    (_outcome(TestStatus.OK, message="Connected to ERP 4.2.", duration_ms=12), []),
    (
        _outcome(
            TestStatus.OK_WITH_INFO,
            message=TRICKY,
            technical_message=f"GET /health -> 200 {TRICKY}",
            duration_ms=1234,
        ),
        [TRICKY, "Name is required."],
    ),
    (_outcome(TestStatus.WARNING, message="Slow answer.", duration_ms=1900), []),
    (
        _outcome(
            TestStatus.ERROR,
            message="The ERP refused the credentials.",
            technical_message="HTTP 401",
            error_code="auth_failed<x>",
            duration_ms=40,
        ),
        ["Name is required."],
    ),
]


def _tags(html):
    """The markup with the whitespace between tags (the template's indentation) removed."""
    return re.sub(r">\s+<", "><", str(html).strip())


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("oob", [False, True])
@pytest.mark.parametrize(("outcome", "blockers"), OUTCOMES)
def test_the_test_result_box_writes_what_the_dialogs_template_wrote(
    outcome, blockers, oob, language
):
    with override(language):
        expected = Template(TEST_RESULT_TEMPLATE).render(
            Context({"outcome": outcome, "blockers": blockers, "oob": oob})
        )
        assert _tags(renderers.test_result_html(outcome, blockers, oob=oob)) == _tags(expected)


def test_the_test_announcement_says_the_status_the_message_and_the_blockers():
    outcome = _outcome(TestStatus.ERROR, message="The ERP refused the credentials.")
    with override("nl"):
        assert renderers.test_announcement(outcome, ["Naam is verplicht."]) == (
            "Testresultaat: Fout. The ERP refused the credentials. Naam is verplicht."
        )
        assert renderers.test_announcement(None) == str(
            gettext_lazy("Correct the marked fields before testing.")
        )


# One of the dialog's own fields as connections/dialog_field.html wrote it.
DIALOG_FIELD_TEMPLATE = (Path(__file__).parent / "reference" / "dialog_field.html").read_text()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize(
    "data",
    [None, {"name": TRICKY, "description": f"line one\n{TRICKY}", "sync_connection": "x"}],
)
def test_the_dialogs_own_fields_write_what_their_template_wrote(data, language):
    SyncConnection.objects.create(name=TRICKY, sync_connector="csv")
    with override(language):
        form = ConnectionForm(data, connector_key="rest_json")
        assert form.uses_sync_connection
        form.fields["description"].help_text = TRICKY  # none has one today; one may
        # scope's radios have no single id to label: a <span class="label"> then
        for name in ("name", "sync_connection", "description", "scope"):
            field = form[name]
            expected = Template(DIALOG_FIELD_TEMPLATE).render(Context({"field": field}))
            assert _tags(form.dialog_fields[name]) == _tags(expected), name
        assert '<span class="label">' in form.dialog_fields["scope"]
        assert 'class="help"' in form.dialog_fields["description"]


# A test's (and a refused save's) answer as connections/dialog.html wrote it.
TESTED_TEMPLATE = (Path(__file__).parent / "reference" / "tested.html").read_text()


def _reference(partial, **context):
    return Template(TESTED_TEMPLATE + f"{{% partial {partial} %}}").render(Context(context))


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("data", [{"name": "", "connector": "rest_json"}, None])
@pytest.mark.parametrize(("outcome", "blockers"), OUTCOMES)
def test_a_tests_answer_writes_what_the_dialogs_template_wrote(
    outcome, blockers, data, language, rf
):
    from connections import views

    with override(language):
        form = ConnectionForm(
            data if data is not None else {"name": TRICKY, "connector": "rest_json"},
            connector_key="rest_json",
        )
        form.is_valid()
        if data is None:  # a form with a non-field error only, and one with field errors
            form.errors.clear()
            form.add_error(None, TRICKY)
        blockers = views._blockers(form) if outcome is not None else []
        if outcome is not None and outcome.proof is None:
            outcome = TestOutcome(result=outcome.result, proof=TRICKY, fingerprint="f" * 64)
        errors = {
            "error_boxes": field_error_boxes(views._field_errors(form)),
            "non_field_errors": form.non_field_errors(),
            "has_errors": bool(form.errors),
        }
        ok_enabled = outcome is not None and outcome.result.succeeded and not form.errors
        expected = _reference(
            "tested",
            **errors,
            test_refused=outcome is None,
            outcome=outcome,
            test_result=renderers.test_result_html(outcome, blockers, oob=True),
            test_announcement=renderers.test_announcement(outcome, blockers),
            ok_enabled=ok_enabled,
        )
        assert 'id="ok-button"' in expected and 'id="form-errors"' in expected
        answer = views._tested_response(rf.post("/"), form, outcome)
        assert _tags(answer.content.decode()) == _tags(expected)
        assert _tags(views._errors_response(form).content.decode()) == _tags(
            _reference("errors", **errors)
        )


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("enabled", [False, True])
@pytest.mark.parametrize("oob", [False, True])
def test_the_ok_button_writes_what_the_dialogs_template_wrote(enabled, oob, language):
    with override(language):
        expected = _reference("ok_button", ok_enabled=enabled, oob=oob)
        assert renderers.ok_button_html(enabled=enabled, oob=oob) == expected.strip()


# The access dialog's results as connections/dialog.html wrote them.
PRINCIPALS_TEMPLATE = (Path(__file__).parent / "reference" / "principal_results.html").read_text()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize(
    ("q", "page_number"), [("nobody", 1), ("anna", 1), ("anna", 2), ("anna", 3), ("solo", 1)]
)
def test_the_access_results_write_what_the_dialogs_template_wrote(
    q, page_number, language, make_user
):
    from connections import selectors

    for i in range(45):
        make_user(f"anna{i:02d}", first_name=TRICKY if i == 3 else "Anna")
    make_user("solo")
    page = selectors.principal_search(q=q, page=page_number)
    picked = {f"user:{p.id}" for p in list(page)[:2]}
    context = {"hidden_users": [7, 9], "hidden_groups": [3]}
    with override(language):
        options = renderers.principal_options_html(page, picked=picked)
        expected = Template(PRINCIPALS_TEMPLATE + "{% partial principals %}").render(
            Context({"principals": page, "options": options, "q": q, **context})
        )
        html = renderers.principal_results_html(page, picked=picked, **context)
    # {% translate %} wrote "Pagina's" into the attribute as it is; the Python escapes it.
    expected = expected.replace('"Pagina\'s"', '"Pagina&#x27;s"')
    assert _tags(html) == _tags(expected)
    assert ("<nav" in html) is (q == "anna")

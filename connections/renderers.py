"""The connection dialog's markup written out in Python: Django's common widget templates
(a form renderer) and the connector's configuration fields.

The edit dialog renders about twenty widgets per request. Through the template engine
each costs about 0.1 ms (``input.html`` includes ``attrs.html``, which loops over the
attributes; a select includes a template per option), about a third of the dialog's
rendering. :class:`DialogRenderer` writes exactly what Django's templates for inputs,
selects, options and textareas write (``tests/connections/test_renderers.py`` compares
them widget by widget) and hands every other template to the project's form renderer.

The configuration fields (:func:`config_item_html`), the chips of the picked users and
groups (:func:`chips_html`), the access dialog's results (:func:`principal_options_html`),
the test's result (:func:`test_result_html`, :func:`test_answer_html`), the dialog's own fields
(:func:`dialog_field_html`), its error summary (:func:`form_errors_html`) and its OK button
(:func:`ok_button_html`) went the same way (``tests/connections/reference`` holds the
templates they replaced, which the tests compare them with): through a template, a
REST/JSON field with its conditions and info button cost about 0.3 ms, and a chip or a
result about 300 Python calls (some 50 per variable), so eleven fields and twenty chips were
half of the edit dialog, and twenty results half of a search.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.forms.renderers import BaseRenderer, get_default_renderer
from django.template import Context
from django.template.base import render_value_in_context
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import gettext, gettext_lazy as _

from connections.models import TEST_STATUS_LABELS

if TYPE_CHECKING:
    from django import forms
    from django.core.paginator import Page
    from django.forms import BoundField

    from connections.config_forms import ConfigItem
    from connections.selectors import Principal
    from connections.services import TestOutcome

WIDGETS = "django/forms/widgets/"
# The templates that are nothing but {% include "django/forms/widgets/input.html" %}.
INPUT_TYPES = ("checkbox", "color", "date", "datetime", "email", "file", "hidden", "number",
               "password", "search", "tel", "text", "time", "url")  # fmt: skip


# What a widget template's {{ value }} sees: autoescape on, the settings' l10n and time zone.
WIDGET_CONTEXT = Context()


def _text(value: Any) -> str:
    """``{{ value }}``."""
    if type(value) is str:  # most are: the template's escape without its lazy-text checks
        return html.escape(value)
    return render_value_in_context(value, WIDGET_CONTEXT)


def _format(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``."""
    if type(value) is str:
        return html.escape(value)
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return conditional_escape(mark_safe(text) if isinstance(value, SafeData) else text)


def _attrs(attrs: Mapping[str, Any]) -> str:
    """``attrs.html``."""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_format(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: Mapping[str, Any]) -> str:
    """``input.html``."""
    value = widget["value"]
    shown = "" if value == None else f' value="{_format(value)}"'  # noqa: E711 - as the template
    attrs = _attrs(widget["attrs"])
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{shown}{attrs}>\n'


def _input_option(widget: Mapping[str, Any]) -> str:
    """``input_option.html``: an option of a radio or checkbox group."""
    if not widget["wrap_label"]:
        return _input(widget) + "\n"
    label_for = widget["attrs"].get("id")
    opening = f'<label for="{_text(label_for)}">' if label_for else "<label>"
    return f"{opening}{_input(widget)} {_text(widget['label'])}</label>\n"


def _option(widget: Mapping[str, Any]) -> str:
    """``select_option.html``."""
    value, attrs, label = _format(widget["value"]), _attrs(widget["attrs"]), _text(widget["label"])
    return f'<option value="{value}"{attrs}>{label}</option>\n'


def _textarea(widget: Mapping[str, Any]) -> str:
    """``textarea.html``."""
    value = _text(widget["value"]) if widget["value"] else ""
    attrs = _attrs(widget["attrs"])
    return f'<textarea name="{_text(widget["name"])}"{attrs}>\n{value}</textarea>\n'


def _select(widget: Mapping[str, Any]) -> str:
    """``select.html``."""
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        parts += [f"\n  {_template(option['template_name'], option)}" for option in options]
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>\n")
    return "".join(parts)


TEMPLATES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    **{f"{WIDGETS}{name}.html": lambda w: _input(w) + "\n" for name in INPUT_TYPES},
    f"{WIDGETS}input.html": _input,
    f"{WIDGETS}input_option.html": _input_option,
    f"{WIDGETS}radio_option.html": lambda w: _input_option(w) + "\n",
    f"{WIDGETS}checkbox_option.html": lambda w: _input_option(w) + "\n",
    f"{WIDGETS}select.html": _select,
    f"{WIDGETS}select_option.html": _option,
    f"{WIDGETS}textarea.html": _textarea,
}


def _template(template_name: str, widget: Mapping[str, Any]) -> str:
    """What ``{% include template_name with widget=widget %}`` writes."""
    written = TEMPLATES.get(template_name)
    if written is not None:
        return written(widget)
    template = get_default_renderer().get_template(template_name)
    return template.render({"widget": widget})


class DialogRenderer(BaseRenderer):
    """The project's form renderer, with Django's common widget templates in Python."""

    def get_template(self, template_name: str) -> Any:
        return get_default_renderer().get_template(template_name)

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        written = TEMPLATES.get(template_name)
        if written is None or request is not None:
            return get_default_renderer().render(template_name, context, request)
        return SafeString(written(context["widget"]).strip())


DIALOG_RENDERER = DialogRenderer()


# --- the connector's configuration fields --------------------------------------------------

MORE_INFORMATION = _("More information")
REQUIRED_MARK = ' <span class="required" aria-hidden="true">*</span>'


def _info(field_id: str, help_text: str, more_information: str) -> str:
    """The (i) button whose tooltip is the help text (config_fields.js shows it)."""
    return (
        f'<span class="info-tip"><button type="button" class="info-button" '
        f'aria-label="{_text(more_information or MORE_INFORMATION)}" '
        f'aria-describedby="{field_id}_helptext">i</button>'
        f'<span class="tooltip" role="tooltip" id="{field_id}_helptext">{_text(help_text)}'
        f"</span></span>"
    )


def _choices(item: ConfigItem, name: str, widget: str) -> str:
    """A field whose options the dialog fetches from the ERP (``choices_from``), on load and
    when a field it depends on changes (``views.connector_choices``)."""
    values = {"field": item.spec.name, "described": "1" if item.help_text else ""}
    connection = getattr(item.field.form, "connection", None)
    if connection is not None:
        values["connection"] = str(connection.pk)
    return (
        f'<div id="choices-{name}" class="erp-choices" '
        f'hx-post="{_text(reverse("connections:connector_choices"))}" '
        f'hx-trigger="{_text(item.choices_trigger)}" hx-include="closest form" '
        f'hx-target="this" hx-swap="innerHTML" hx-sync="#config-fields:queue all" '
        f'hx-vals="{_text(json.dumps(values))}">\n{widget}\n'
        f'<p class="choices-message" id="choices-message-{name}" role="status"></p>\n</div>'
    )


def config_item_html(item: ConfigItem) -> SafeString:
    """One configuration field of the dialog's config block: its label (with a required
    mark), the (i) help button, the widget, and the box its errors go into."""
    field, layout = item.field, item.layout
    name = _text(field.html_name)
    label = _text(item.label)
    widget = str(field)  # the widget's markup, through the form's renderer
    field_id = _text(field.auto_id or "")
    info = _info(field_id, item.help_text, item.more_information) if item.help_text else ""
    classes = {"checkbox": " checkbox-field", "static": " static-field"}.get(layout, "")
    attrs = f' data-visible-when="{_text(item.visible_when)}"' if item.spec.visible_when else ""
    attrs += " hidden" if item.hidden else ""
    if layout == "checkbox":
        body = (
            f'<div class="field-label"><label for="{_text(field.id_for_label)}">{widget} '
            f"{label}</label>{info}</div>"
        )
    elif layout == "static":
        body = (f'<span class="label">{label}</span>\n' if label else "") + widget
    else:
        required = REQUIRED_MARK if field.field.required else ""
        body = (
            f'<div class="field-label"><label for="{_text(field.id_for_label)}">{label}'
            f"{required}</label>{info}</div>\n"
        )
        body += _choices(item, name, widget) if item.spec.choices_from else widget
    return SafeString(
        f'<div id="field-{name}" class="field{classes}"{attrs}>\n{body}\n'
        f'<div class="field-error" id="error-{name}"></div>\n</div>\n'
    )


# --- the picked users and groups -----------------------------------------------------------


def chips_html(principals: Iterable[Principal]) -> SafeString:
    """The picked users and groups under *Scope*: per user or group its name, a remove button
    and the hidden input that posts it (``users`` or ``groups``)."""
    remove = gettext("Remove %(label)s")  # once, not per chip
    return SafeString(
        "".join(
            f'<li class="pick" data-kind="{p.field}" data-id="{p.id}"><span>{_text(p.label)}'
            f'</span> <button type="button" class="remove-pick" '
            f'aria-label="{_text(remove % {"label": p.label})}">×</button>'
            f'<input type="hidden" name="{p.field}" value="{p.id}"></li>\n'
            for p in principals
        )
    )


def field_error_boxes(errors: Mapping[str, Iterable[str]]) -> SafeString:
    """Every field's error box, swapped in out of band (an empty one clears old errors)."""
    return SafeString(
        "".join(
            f'<div class="field-error" id="error-{name}" hx-swap-oob="true">'
            + "".join(f"<span>{_text(error)}</span>" for error in field_errors)
            + "</div>\n"
            for name, field_errors in errors.items()
        )
    )


def form_errors_html(
    *, has_errors: bool, test_refused: bool = False, non_field_errors: Iterable[Any] = ()
) -> SafeString:
    """The dialog's summary above its fields (``#form-errors``), swapped in out of band."""
    summary = ""
    if has_errors:
        text = (
            gettext("Correct the marked fields before testing.")
            if test_refused
            else gettext("Correct the marked fields.")
        )
        summary = f'<p class="message error">{_text(text)}</p>'
    errors = "".join(f'<p class="message error">{_text(error)}</p>' for error in non_field_errors)
    return SafeString(
        f'<div id="form-errors" role="alert" hx-swap-oob="true">{summary}{errors}</div>\n'
    )


def ok_button_html(*, enabled: bool, oob: bool = False) -> SafeString:
    """The dialog's OK button: enabled once a test passed (or when editing saved values)."""
    disabled = "" if enabled else " disabled"
    swap = ' hx-swap-oob="true"' if oob else ""
    return SafeString(
        f'<button type="submit" id="ok-button" class="primary"{disabled}{swap}>'
        f"{_text(gettext('OK'))}</button>"
    )


GROUP_WORD, USER_WORD = _("Group"), _("User")


def principal_options_html(principals: Iterable[Principal], *, picked: set[str]) -> SafeString:
    """The access dialog's results: per user or group a checkbox (checked when ``picked``
    holds its key), its kind, its name and what tells it apart (username and e-mail)."""
    kinds = {"group": _text(GROUP_WORD), "user": _text(USER_WORD)}
    options = []
    for principal in principals:
        checked = " checked" if principal.key in picked else ""
        detail = principal.detail
        detail = f' <span class="muted">({_text(detail)})</span>' if detail else ""
        options.append(
            f'<label class="principal"><input type="checkbox" name="{principal.field}" '
            f'value="{principal.id}"{checked}>\n'
            f'<span class="principal-kind">{kinds[principal.kind]}</span>\n'
            f"{_text(principal.label)}{detail}</label>\n"
        )
    return SafeString("".join(options))


def principal_results_html(
    page: Page, *, picked: set[str], hidden_users: Iterable[int], hidden_groups: Iterable[int]
) -> SafeString:
    """The access dialog's results (``#principal-results``): the picks not on this page as
    hidden inputs, this page's users and groups (:func:`principal_options_html`) and, when
    there is more than one page, the buttons to the others."""
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{pk}">'
        for name, ids in (("users", hidden_users), ("groups", hidden_groups))
        for pk in ids
    )
    options = principal_options_html(page, picked=picked) or (
        f'<p class="muted">{_text(gettext("No users or groups match your search."))}</p>'
    )
    parts = [
        f'<div id="principal-results">\n{hidden}\n<fieldset class="principals">\n'
        f'<legend class="visually-hidden">{_text(gettext("Users and groups"))}</legend>\n'
        f"{options}\n</fieldset>\n"
    ]
    total = page.paginator.num_pages
    if total > 1:
        url = reverse("connections:principals")

        def button(number: int, text: str) -> str:
            return (
                f'<button type="button" hx-get="{url}" hx-include="#access-form" '
                f"""hx-vals='{{"page": "{number}"}}' hx-target="#principal-results" """
                f'hx-swap="outerHTML">{_text(text)}</button>'
            )

        previous = (
            button(page.previous_page_number(), gettext("Previous")) if page.has_previous() else ""
        )
        following = button(page.next_page_number(), gettext("Next")) if page.has_next() else ""
        of = gettext("Page %(number)s of %(total)s") % {"number": page.number, "total": total}
        parts.append(
            f'<nav class="pagination" aria-label="{_text(gettext("Pages"))}">\n{previous}\n'
            f"<span>{_text(of)}</span>\n{following}\n</nav>\n"
        )
    parts.append("</div>")
    return SafeString("".join(parts))


# --- the dialog's own fields ---------------------------------------------------------------


def dialog_field_html(field: BoundField) -> SafeString:
    """One of the dialog's own fields (name, sync connection, description): its label (with
    the required star), its widget, its help text and its error box."""
    label = _text(field.label)
    label_for = field.id_for_label
    if label_for:
        star = ' <span class="required" aria-hidden="true">*</span>' if field.field.required else ""
        head = f'<label for="{_text(label_for)}">{label}{star}</label>'
    else:
        head = f'<span class="label">{label}</span>'
    help_text = (
        f'<div class="help" id="{_text(field.auto_id)}_helptext">{_text(field.help_text)}</div>\n'
        if field.help_text
        else ""
    )
    return SafeString(
        f'<div class="field">\n{head}\n{field}\n{help_text}'
        f'<div class="field-error" id="error-{_text(field.html_name)}"></div>\n</div>'
    )


class DialogFields:
    """``{{ form.dialog_fields.name }}``: a form's fields through :func:`dialog_field_html`."""

    def __init__(self, form: forms.BaseForm) -> None:
        self.form = form

    def __getitem__(self, name: str) -> SafeString:
        return dialog_field_html(self.form[name])


# --- the result of *Test ERP connection* ---------------------------------------------------

STATUS_ICONS = {"ok": "✔", "ok_with_info": "ℹ", "warning": "⚠", "error": "✖"}


def test_result_html(
    outcome: TestOutcome | None, blockers: Iterable[str] = (), *, oob: bool = False
) -> SafeString:
    """The dialog's *Test result* box: empty (only its progress line) until a test ran, then
    its status, message, what still keeps OK disabled and the technical details."""
    status = str(outcome.result.status) if outcome else ""
    classes = f" has-result status-{_text(status)}" if outcome else ""
    swap = ' hx-swap-oob="true"' if oob else ""
    parts = [
        f'<section id="test-result" class="test-result{classes}" '
        f'aria-label="{_text(gettext("Test result"))}"{swap}>\n'
        f'<p class="test-progress">{_text(gettext("Testing..."))}</p>\n'
    ]
    if outcome is not None:
        result = outcome.result
        label = _text(TEST_STATUS_LABELS.get(status, TEST_STATUS_LABELS["error"]))
        icon = STATUS_ICONS.get(status, STATUS_ICONS["error"])
        parts.append(
            f'<div class="test-body">\n<p class="test-status"><span class="status-icon" '
            f'aria-hidden="true">{icon}</span>\n<strong>{label}</strong></p>\n'
            f'<p class="test-message">{_text(result.message)}</p>\n'
        )
        blockers = list(blockers)
        if blockers:
            intro = (
                gettext("The connection works, but it cannot be saved yet:")
                if result.succeeded
                else gettext("Also correct before saving:")
            )
            items = "".join(f"<li>{_text(blocker)}</li>" for blocker in blockers)
            parts.append(
                f'<div class="test-blockers">\n<p>{_text(intro)}</p>\n<ul>{items}</ul>\n</div>\n'
            )
        code = (
            f"{_text(gettext('Error code'))}: <code>{_text(result.error_code)}</code> · "
            if result.error_code
            else ""
        )
        duration = gettext("%(ms)s ms") % {"ms": result.duration_ms}
        parts.append(
            f'<p class="test-outdated"><strong>'
            f"{_text(gettext('The values changed since this test. Test again.'))}</strong></p>\n"
            f"<details>\n<summary>{_text(gettext('Technical details'))}</summary>\n"
            f'<p class="technical">{_text(result.technical_message or "-")}</p>\n'
            f'<p class="muted">{code}{_text(duration)}</p>\n</details>\n</div>\n'
        )
    parts.append("</section>")
    return SafeString("".join(parts))


def test_answer_html(
    outcome: TestOutcome | None, blockers: Iterable[str] = (), *, ok_enabled: bool
) -> SafeString:
    """What a test's answer swaps in besides the errors, all out of band: the proof (empty
    unless the test passed), the *Test result* box, OK and the live region's text."""
    blockers = list(blockers)
    proof = outcome.proof if outcome is not None and outcome.proof else ""
    return SafeString(
        f'<input type="hidden" name="proof" id="id_proof" value="{_text(proof)}" '
        'hx-swap-oob="true">\n'
        f"{test_result_html(outcome, blockers, oob=True)}"
        f"{ok_button_html(enabled=ok_enabled, oob=True)}\n"
        '<div id="test-live" hx-swap-oob="innerHTML">'
        f"{_text(test_announcement(outcome, blockers))}</div>\n"
    )


def test_announcement(outcome: TestOutcome | None, blockers: Iterable[str] = ()) -> str:
    """What the dialog's live region says after a test (or a test refused)."""
    if outcome is None:
        return gettext("Correct the marked fields before testing.")
    status = str(outcome.result.status)
    label = TEST_STATUS_LABELS.get(status, TEST_STATUS_LABELS["error"])
    said = f"{gettext('Test result')}: {label}. {outcome.result.message}"
    return "".join([said, *(f" {blocker}" for blocker in blockers)])

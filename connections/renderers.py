"""The connection dialog's form renderer: Django's own widget markup, with the common
widget templates written out in Python.

The edit dialog renders about twenty widgets per request. Through the template engine
each costs about 0.1 ms (``input.html`` includes ``attrs.html``, which loops over the
attributes; a select includes a template per option), about a third of the dialog's
rendering. :class:`DialogRenderer` writes exactly what Django's templates for inputs,
selects, options and textareas write (``tests/connections/test_renderers.py`` compares
them widget by widget) and hands every other template to the project's form renderer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.forms.renderers import BaseRenderer, get_default_renderer
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe

WIDGETS = "django/forms/widgets/"
# The templates that are nothing but {% include "django/forms/widgets/input.html" %}.
INPUT_TYPES = ("checkbox", "color", "date", "datetime", "email", "file", "hidden", "number",
               "password", "search", "tel", "text", "time", "url")  # fmt: skip


# What a widget template's {{ value }} sees: autoescape on, the settings' l10n and time zone.
WIDGET_CONTEXT = Context()


def _text(value: Any) -> str:
    """``{{ value }}``."""
    return render_value_in_context(value, WIDGET_CONTEXT)


def _format(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``."""
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

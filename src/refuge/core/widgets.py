"""Select widgets that write their options in Python rather than through a template per option;
input widgets that write their one tag in Python too, and a form mixin that writes its labels so.

A region picker has some 150 options, grouped by country; Django renders each option, and each
of its attributes, through its own template, which cost the vacancy board about half of its
time when filtered to one region (issue 15: the board within 5× its raw SQL). The HTML is the
same as Django's templates write (`select.html`, `select_option.html`, `attrs.html`): the name,
the attributes (a true boolean as its bare name, False or None left out), optgroups, and
``selected`` on the chosen options; every value and label is escaped. The inputs write what
Django's `input.html` writes (a None attribute as ``"None"``, as its `attrs.html` does); the
board's filter has eight of them, each a template and an include.
"""

from __future__ import annotations

from django import forms
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict) -> str:
    out = []
    for name, value in attrs.items():
        if value is True:
            out.append(f" {escape(name)}")
        elif value is not False and value is not None:
            out.append(f' {escape(name)}="{escape(value)}"')
    return "".join(out)


class _Quick:
    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        parts = [f'<select name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'<optgroup label="{escape(group_name)}">')
            for option in options:
                parts.append(
                    f'<option value="{escape(option["value"])}"{_attrs(option["attrs"])}>'
                    f"{escape(option['label'])}</option>"
                )
            if group_name:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 (every value and label escaped above)


class QuickSelect(_Quick, forms.Select):
    pass


class QuickSelectMultiple(_Quick, forms.SelectMultiple):
    pass


def _input_attrs(attrs: dict) -> str:
    """Django's attrs.html: False left out, True as the bare name, anything else as text."""
    out = []
    for name, value in attrs.items():
        if value is True:
            out.append(f" {escape(name)}")
        elif value is not False:
            out.append(f' {escape(name)}="{escape(value)}"')
    return "".join(out)


class _QuickInput:
    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        html = f'<input type="{escape(widget["type"])}" name="{escape(widget["name"])}"'
        if widget["value"] is not None:
            html += f' value="{escape(widget["value"])}"'
        return mark_safe(f"{html}{_input_attrs(widget['attrs'])}>")  # noqa: S308 (escaped above)


class QuickTextInput(_QuickInput, forms.TextInput):
    pass


class QuickNumberInput(_QuickInput, forms.NumberInput):
    pass


class QuickCheckboxInput(_QuickInput, forms.CheckboxInput):
    pass


class QuickCheckboxSelectMultiple(forms.CheckboxSelectMultiple):
    """Django's `multiple_input.html` and `input_option.html`, written in Python: a box and its
    label per option, in a div, groups in their own div with a label."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        div_id, css = widget["attrs"].get("id"), widget["attrs"].get("class")
        parts = [
            "<div",
            f' id="{escape(div_id)}"' if div_id else "",
            f' class="{escape(css)}"' if css else "",
            ">",
        ]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(f"<div><label>{escape(group_name)}</label>")
            for o in options:
                box = f'<input type="{escape(o["type"])}" name="{escape(o["name"])}"'
                if o["value"] is not None:
                    box += f' value="{escape(o["value"])}"'
                box += f"{_input_attrs(o['attrs'])}>"
                if o["wrap_label"]:
                    box_id = o["attrs"].get("id")
                    target = f' for="{escape(box_id)}"' if box_id else ""
                    box = f"<label{target}>{box} {escape(o['label'])}</label>"
                parts.append(f"<div>{box}</div>")
            if group_name:
                parts.append("</div>")
        parts.append("</div>")
        return mark_safe("".join(parts))  # noqa: S308 (every value and label escaped above)


class QuickLabels:
    """A form mixin: labels written in Python, as Django's `label.html` writes them (the same
    context, built by BoundField.label_tag); every other template is Django's."""

    def render(self, template_name=None, context=None, renderer=None):
        if context is not None and template_name == self.template_name_label:  # type: ignore[attr-defined]
            label = conditional_escape(context["label"])
            if not context["use_tag"]:
                # Django's renderer strips what a template wrote (BaseRenderer.render): a
                # label of spaces and its suffix come out as the suffix alone.
                return mark_safe(label.strip())  # noqa: S308 (escaped above)
            tag = escape(context["tag"])
            attrs = _input_attrs(context["attrs"] or {})
            return mark_safe(f"<{tag}{attrs}>{label}</{tag}>")  # noqa: S308 (escaped above)
        return super().render(template_name, context, renderer)  # type: ignore[misc]

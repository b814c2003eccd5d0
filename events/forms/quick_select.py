"""A <select> written out in Python, and model choices read with one plain query.

Django renders a select through a template per option and another for each option's attributes:
the request log's filter form has some eighty options, and rendering them was 5 ms of the page's
server time. QuickSelect writes exactly the markup of Django's select.html, select_option.html and
attrs.html (tests/test_log.py compares the two), in a fraction of that.
"""

from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict[str, Any]) -> str:
    # As attrs.html: False left out, True a bare name, any other value str()-ed and escaped.
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class QuickSelect(forms.Select):
    """forms.Select with the same context and markup, written without the template engine."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _ in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in options:
                parts.append(
                    f'\n  <option value="{escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
                    # The option template's file ends in a newline, and so does its markup.
                    f"{conditional_escape(option['label'])}</option>\n"
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


class ListedChoices(ModelChoiceIterator):
    """A model field's choices from one plain query. Django's iterator reads them through
    .iterator(), a server-side cursor on PostgreSQL: three round trips (DECLARE, FETCH, CLOSE)
    and a held cursor, for the few dozen apps or event tokens a filter form lists."""

    def __iter__(self) -> Iterator[tuple[Any, str]]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():  # a plain query, not .iterator()
            yield self.choice(obj)

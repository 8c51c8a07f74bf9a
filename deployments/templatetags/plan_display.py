"""Filters for the readable plan (templates/deployments/partials/plan_readable.html)."""

import re

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()

_CODE = re.compile(r"`([^`\n]*)`")


@register.filter
def backticks_as_code(text: object) -> str:
    """Escape the text first (plan values come from users), then show `name` as <code>name</code>."""
    escaped = str(conditional_escape(str(text)))
    return mark_safe(_CODE.sub(r"<code>\1</code>", escaped))  # escaped above; backticks are not HTML

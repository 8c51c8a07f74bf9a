import json

from django import template

register = template.Library()


@register.filter
def as_json(value) -> str:
    """Terraform values (maps, lists, numbers) shown as JSON; text as it is."""
    if isinstance(value, str):
        return value
    return json.dumps(
        value, sort_keys=True, indent=1 if isinstance(value, dict | list) and len(str(value)) > 60 else None
    )

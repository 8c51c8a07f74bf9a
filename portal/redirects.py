"""Where a `next` parameter may send the browser: only back to this site."""

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str, field: str = "next") -> str:
    """The request's `next` (POST, then GET) when it stays on this site, else `fallback`."""
    target = request.POST.get(field) or request.GET.get(field) or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback

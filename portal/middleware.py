"""Every page requires a signed-in user (Django's LoginRequiredMiddleware),
except views marked @login_not_required and the machine endpoints below."""

from asgiref.sync import iscoroutinefunction
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.utils.decorators import sync_and_async_middleware

from portal.audit import _request_user

# These authenticate on their own: the REST API (tokens or session, answering
# 401/403 instead of redirecting) and Terraform's state backend (per-run
# credentials).
MACHINE_PREFIXES = ("/api/", "/state/", "/healthz")


class LoginRequiredMiddleware(DjangoLoginRequired):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(MACHINE_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


@sync_and_async_middleware
def audit_actor_middleware(get_response):
    """Lets records made outside views (signals) name the request's user (portal.audit.current_actor).

    Both sync and async, so async views (the live streams) are not adapted through a thread for it."""
    if iscoroutinefunction(get_response):

        async def middleware(request):
            token = _request_user.set(getattr(request, "user", None))
            try:
                return await get_response(request)
            finally:
                _request_user.reset(token)

    else:

        def middleware(request):
            token = _request_user.set(getattr(request, "user", None))
            try:
                return get_response(request)
            finally:
                _request_user.reset(token)

    return middleware

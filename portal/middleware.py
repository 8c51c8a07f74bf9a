"""Every page requires a signed-in user (Django's LoginRequiredMiddleware),
except views marked @login_not_required and the machine endpoints below."""

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired

# These authenticate on their own: the REST API (tokens or session, answering
# 401/403 instead of redirecting) and Terraform's state backend (per-run
# credentials).
MACHINE_PREFIXES = ("/api/", "/state/", "/healthz")


class LoginRequiredMiddleware(DjangoLoginRequired):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(MACHINE_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)

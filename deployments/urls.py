"""Every room's routes, in one place for portal/urls.py.

Run and project-tab routes come before onboarding's, so a project tab served
here takes its route."""

from deployments.artifacts import urls as artifacts
from deployments.drift import urls as drift
from deployments.drills import urls as drills
from deployments.live import urls as live
from deployments.operations import urls as operations
from deployments.pages import urls as pages
from deployments.plans import urls as plans
from deployments.runs import urls as runs
from deployments.sandboxes import urls as sandboxes
from deployments.state import urls as state

urlpatterns = [
    *runs.urlpatterns,
    *live.urlpatterns,
    *pages.urlpatterns,
    *state.urlpatterns,
    *operations.urlpatterns,
    *drills.urlpatterns,
    *artifacts.urlpatterns,
    *plans.urlpatterns,
    *drift.urlpatterns,
    *sandboxes.urlpatterns,
]
api_urlpatterns = [
    *artifacts.api_urlpatterns,
    *pages.api_urlpatterns,
    *runs.api_urlpatterns,
    *drift.api_urlpatterns,
    *sandboxes.api_urlpatterns,
]
state_backend_urlpatterns = state.backend_urlpatterns

"""The approve button's `next` sends the browser back to this site only."""

import pytest
from django.urls import reverse

from tests.portal.test_redirects import EVIL

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("target", EVIL)
def test_approving_a_shared_change_does_not_redirect_off_site(client_for, project, lead, shared_settings, target):
    from onboarding.shared_composer.services import shared_onboard

    change = shared_onboard(project=project, user=lead)
    response = client_for(lead).post(reverse("shared_change_approve", args=[change.pk]), {"next": target})
    assert response.status_code == 302
    assert response.url == change.get_absolute_url()

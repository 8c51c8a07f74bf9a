import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from onboarding import services
from onboarding.models import Environment, Project


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_registrations_make_exactly_one_project(lead, team):
    if connection.vendor != "postgresql":
        pytest.skip("the race is meaningful on PostgreSQL, which the suite runs against")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def register():
        try:
            barrier.wait(timeout=10)
            services.project_register(service_control_id=123, name="example", team=team, user=lead)
            outcomes.append("created")
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=register) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["already_registered", "created"]
    assert Project.objects.count() == 1
    assert Environment.objects.count() == 3

"""Hangar's URLs plus /test-slow/: a page that blocks (in its request thread) until the test releases it."""

import os
import time
import uuid
from pathlib import Path

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse
from django.urls import include, path


@login_not_required
def slow(request):
    folder = Path(os.environ["HANGAR_TEST_SLOW_DIR"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # holds a database connection, as a slow page does
    (folder / f"in-{uuid.uuid4().hex}").touch()
    deadline = time.monotonic() + 60
    while not (folder / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return HttpResponse("slow page done")


urlpatterns = [path("test-slow/", slow), path("", include("portal.urls"))]

"""Hangar's settings plus a deliberately slow page, for the server-concurrency test only."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "tests.portal.slow_urls"

"""Logging helpers referenced from settings.LOGGING."""

import logging


class ExpectedRefusalsFilter(logging.Filter):
    """Turn Django's log lines for 403 responses into INFO lines without a traceback.

    A refusal is Hangar's rules working (a viewer may not register, only admins see
    Operations); logging each as a warning with PermissionDenied's traceback buries real
    problems. Other 4xx and 5xx records, and other security records, pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        refused = getattr(record, "status_code", None) == 403 or record.name == "django.security.PermissionDenied"
        if refused and record.levelno > logging.INFO:
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
            record.exc_info = record.exc_text = None
        return True

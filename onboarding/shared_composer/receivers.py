"""Signal receivers: the shared composer follows its runs (membership state, promotion)."""

import logging

from onboarding.shared_composer.services import shared_run_finished

logger = logging.getLogger(__name__)


def shared_composer_run_finished(sender, run, **kwargs) -> None:
    try:
        shared_run_finished(run=run)
    except Exception:
        # A failed promotion must not fail the run that just finished; it is logged and can be retried.
        logger.exception("shared composer: handling run #%s failed", run.pk)

"""Signals other apps listen to, so deployments need not know about them."""

from django.dispatch import Signal

# Sent after a run's outcome is committed; receivers get `run` (a Run, final status set).
run_finished = Signal()

# Sent after a run parks at `planned` and its saved plan waits for a person (committed); receivers get `run`
# (`run.awaiting_approval` says whether a second lead must approve it, else anyone who may deploy confirms it).
run_awaiting = Signal()

"""Signals other apps listen to, so deployments need not know about them."""

from django.dispatch import Signal

# Sent after a run's outcome is committed; receivers get `run` (a Run, final status set).
run_finished = Signal()

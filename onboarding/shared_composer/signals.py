"""Signals other apps listen to (notifications), so the shared Airflow need not know about them."""

from django.dispatch import Signal

# Sent when a membership change has gone as far as it will go: its last stage (prod) succeeded, a stage's run
# ended otherwise (failed, cancelled, discarded), or a newer change took over the next stage. Receivers get
# `change` (a SharedChange), `run` (the run that ended it) and `outcome` (succeeded, failed, cancelled,
# discarded or superseded).
shared_change_finished = Signal()

"""Signals other apps listen to (notifications), so drift checks need not know about them."""

from django.dispatch import Signal

# Sent after a finished check turned a deployment's Health from in sync to drifted, or back (committed).
# Receivers get `check` (the new DriftCheck) and `previous` (the earlier check it is compared with, or None
# when the deployment had none that said in sync or drifted: a first check that finds drift).
drift_changed = Signal()

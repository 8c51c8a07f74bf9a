"""Signals other apps listen to (notifications), so sandboxes need not know about them."""

from django.dispatch import Signal

# Sent after commit when a sandbox is close to expiry (`event` "sandbox.expiring"), was destroyed
# ("sandbox.destroyed") or failed to destroy ("sandbox.destroy_failed", with `error`). Receivers get `event`
# and `sandbox` (a Sandbox), and `error` where it applies.
sandbox_event = Signal()

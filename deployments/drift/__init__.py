"""Drift: what changed in the cloud outside Hangar, found on a schedule and shown in the DSL's terms.

A check plans the deployed version read-only (`terraform plan -refresh-only -lock=false`, the way
speculative plans do, see plans/readonly.py): it takes no slot and no lock, and is skipped while the
deployment has an active run. Two ways out are ordinary runs: Reconcile (apply the deployed version
again) and Accept reality (the `refresh` operation). See docs/drift.md."""

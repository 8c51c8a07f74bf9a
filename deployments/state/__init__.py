"""Terraform state, served by Hangar: the http backend Terraform reads, writes and locks.

`services` holds the rules: per-run credentials, forward-only writes that keep every
version, the lock and its release when a run ends, an admin's audited force-unlock.
`views` speaks HTTP to Terraform and renders the State page. See docs/runs.md#state."""

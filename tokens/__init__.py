"""API tokens: hashed, expiring, revocable. Personal tokens belong to a person; a project CI token
acts as a service account of one project with one role. See docs/api.md#tokens."""

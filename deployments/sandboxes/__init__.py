"""Sandboxes: short-lived environments of a project, made from one version and one environment's
definition, with their own cloud project, state and deployment row, destroyed at expiry."""

"""Notifications: events about runs, drift, sandboxes and the shared Airflow, sent to the destinations a
project's team leads (or admins, for every project) choose: e-mail, signed webhooks and chat.

`deployments` and `onboarding` never import this app: it listens to their signals (`receivers`)."""

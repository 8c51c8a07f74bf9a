"""Runs: one Terraform operation (plan, apply, destroy) of one artifact version on one
deployment (environment + target).

- `services`: the lifecycle — start, queue (one slot per deployment), claim, finish,
  cancel, approve, reap lost runs. `dispatch` hands work to Celery after commit.
- `executor`: what a worker does with a run — a fresh `workspace`, the Terraform
  `toolchain`, each line of Terraform's JSON output (`terraform_json`) stored by `logs`.
- `tasks`: Celery's thin entry points; `selectors`: reads; `views` and `api`: the run
  page and the run API. See docs/runs.md."""

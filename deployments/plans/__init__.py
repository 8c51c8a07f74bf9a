"""Plans: a Terraform JSON plan (`terraform show -json plan.bin`) read in the DSL's own terms.

`readable.readable_plan` turns the plan into what a person reviews before an apply: one entry per
resource change with its action, attribute diffs (schema columns, labels, IAM members) named like
the DSL (table `kpis.daily`, not `module.table_kpis--daily.localcloud_table.this`), a link to the
line of main.yaml that defines each object, changes made outside Hangar that the apply reverts,
and warnings (data lost with a table, IAM grants removed). `readable.api_shape` is its REST form;
`services.table_row_count` asks the local cloud how many rows a table holds. `readable` is pure
(no database); `models.SavedPlan` keeps a run's binary plan and its JSON, `services.plan_store` and
`plan_stale_reason` store it and tell whether it still fits the state, and `selectors.run_readable_plan`
reads it back for the run page and the API. See docs/runs.md#reading-a-plan."""

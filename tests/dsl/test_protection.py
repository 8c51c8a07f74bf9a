"""protected_table_problems on hand-written `terraform show -json` plans."""

from deployments.dsl.protection import dsl_table_name, protected_table_problems

HOW_TO = "To remove the table on purpose: set `deletion_protection: false`, deploy that, then remove the table."


def table_change(actions, before, module="module.table_kpis--events", **extra):
    return {
        "address": f"{module}.localcloud_table.this" if module else "localcloud_table.events",
        "module_address": module,
        "mode": "managed",
        "type": "localcloud_table",
        "name": "this" if module else "events",
        "change": {"actions": actions, "before": before, "after": None, **extra},
    }


def protected(value=True):
    return {"project": "sc-1-p-dev", "dataset_id": "kpis", "table_id": "events", "deletion_protection": value}


def plan(*changes, remaining=True):
    resources = [{"address": "module.dataset_kpis.localcloud_dataset.this"}] if remaining else []
    return {
        "format_version": "0.2",
        "planned_values": {"root_module": {"child_modules": [{"resources": resources}]}},
        "resource_changes": list(changes),
    }


def test_deleting_a_protected_table_is_a_problem_named_in_dsl_terms():
    [problem] = protected_table_problems(plan(table_change(["delete"], protected())))
    assert problem == (
        "Table kpis.events (module.table_kpis--events.localcloud_table.this) is protected from deletion "
        "(deletion_protection is true), and this plan would delete it and its rows. " + HOW_TO
    )


def test_replacing_a_protected_table_is_a_problem_and_says_why():
    change = table_change(["delete", "create"], protected(), replace_paths=[["time_partitioning"]])
    [problem] = protected_table_problems(plan(change))
    assert "Table kpis.events" in problem
    assert "would replace it: delete it, losing its rows, and create it again because time_partitioning changes" in (
        problem
    )
    assert HOW_TO in problem
    # create_before_destroy replaces the other way round: still a delete.
    assert protected_table_problems(plan(table_change(["create", "delete"], protected())))


def test_an_unprotected_table_may_go():
    assert protected_table_problems(plan(table_change(["delete"], protected(False)))) == []
    assert protected_table_problems(plan(table_change(["delete", "create"], protected(False)))) == []


def test_a_missing_flag_or_before_counts_as_protected():
    old_state = {"project": "sc-1-p-dev", "dataset_id": "kpis", "table_id": "events"}
    assert len(protected_table_problems(plan(table_change(["delete"], old_state)))) == 1
    assert len(protected_table_problems(plan(table_change(["delete"], old_state | {"deletion_protection": None})))) == 1
    assert len(protected_table_problems(plan(table_change(["delete"], None)))) == 1
    [bare] = protected_table_problems(
        {"resource_changes": [{"type": "localcloud_table", "change": {"actions": ["delete"]}}]}
    )
    assert bare.startswith("Table localcloud_table is protected from deletion") and HOW_TO[:40] in bare


def test_changes_that_keep_the_table_are_not_problems():
    update = table_change(["update"], protected())
    create = table_change(["create"], None)
    noop = table_change(["no-op"], protected())
    read = table_change(["read"], None)
    assert protected_table_problems(plan(update, create, noop, read)) == []
    assert protected_table_problems({}) == []


def test_other_resources_are_not_judged():
    dataset = {
        "address": "module.dataset_kpis.localcloud_dataset.this",
        "type": "localcloud_dataset",
        "change": {"actions": ["delete"], "before": {"dataset_id": "kpis"}},
    }
    data_source = table_change(["delete"], protected()) | {"mode": "data"}
    assert protected_table_problems(plan(dataset, data_source)) == []


def test_a_destroy_plan_says_that_the_environment_needs_unprotected_tables_first():
    dataset = {"address": "x", "type": "localcloud_dataset", "change": {"actions": ["delete"], "before": {}}}
    destroy = plan(table_change(["delete"], protected()), dataset, remaining=False)
    [problem] = protected_table_problems(destroy)
    assert problem == (
        "Table kpis.events (module.table_kpis--events.localcloud_table.this) is protected from deletion "
        "(deletion_protection is true), and destroying the environment would delete it and its rows. "
        "Destroying the environment requires setting `deletion_protection: false` on its tables first: set it, "
        "deploy that, then destroy the environment."
    )
    # The caller may say so itself, whatever the plan looks like.
    [told] = protected_table_problems(plan(table_change(["delete"], protected())), destroy=True)
    assert "destroying the environment would delete it" in told
    [not_destroy] = protected_table_problems(destroy, destroy=False)
    assert HOW_TO in not_destroy


def test_plain_terraform_tables_are_named_by_address_and_hcl():
    [problem] = protected_table_problems(plan(table_change(["delete"], protected(), module=None)))
    assert problem.startswith("Table kpis.events (localcloud_table.events) is protected from deletion")
    assert "set `deletion_protection = false`, deploy that, then remove the table." in problem
    other_module = table_change(["delete"], protected(), module="module.reports")
    [problem] = protected_table_problems(plan(other_module))
    assert problem.startswith("Table kpis.events (module.reports.localcloud_table.this)")


def test_every_protected_table_gets_its_own_message():
    second = table_change(["delete"], protected() | {"table_id": "b"}, module="module.table_kpis--b")
    problems = protected_table_problems(plan(table_change(["delete"], protected()), second))
    assert [p.split(" (")[0] for p in problems] == ["Table kpis.events", "Table kpis.b"]


def test_dsl_table_name():
    assert dsl_table_name("module.table_example_reports--daily_summary") == "example_reports.daily_summary"
    assert dsl_table_name("module.table_a--b.module.x") is None
    assert dsl_table_name("module.dataset_a") is None
    assert dsl_table_name(None) is None

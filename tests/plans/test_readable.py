"""readable_plan on small hand-written plans: the edge cases real plans rarely show."""

import json

from deployments.plans import readable
from deployments.plans.readable import KNOWN_AFTER_APPLY, SENSITIVE, api_shape, readable_plan
from deployments.plans.sources import dsl_objects, object_from_label

TABLE = "module.table_kpis--daily.localcloud_table.this"


def entry(address: str, actions: list[str], before=None, after=None, **change) -> dict:
    module = address.rpartition(".localcloud_")[0] if address.startswith("module.") else ""
    resource_type = address.split(".")[-2]
    return {
        "address": address,
        "module_address": module or None,
        "mode": "managed",
        "type": resource_type,
        "name": address.split(".")[-1],
        "change": {"actions": actions, "before": before, "after": after, **change},
    }


def plan(*changes: dict, drift: tuple = ()) -> dict:
    return {"format_version": "0.2", "resource_changes": list(changes), "resource_drift": list(drift)}


def test_empty_plan_says_no_changes() -> None:
    result = readable_plan({"format_version": "0.2"})
    assert result.headline == "No changes" and not result.has_changes
    assert api_shape(result) == {
        "add": 0,
        "change": 0,
        "destroy": 0,
        "refresh_only": False,
        "resource_changes": [],
        "drift": [],
        "warnings": [],
    }
    noop = entry(TABLE, ["no-op"], {"labels": {}}, {"labels": {}})
    assert readable_plan(plan(noop)).resource_changes == ()


def test_nested_unknowns_and_sensitive_values() -> None:
    before = {"labels": {"team": "a", "secret": "x"}, "description": "old", "settings": {"k": "v"}}
    after = {"labels": {"team": "a", "secret": "y"}, "description": "new", "settings": {"k": "v"}}
    change = entry(
        "localcloud_bucket.b",
        ["update"],
        before,
        after,
        after_unknown={"labels": {"team": True}, "settings": True},
        before_sensitive={"labels": {"secret": True}},
        after_sensitive={"labels": {"secret": True}, "description": True},
    )
    (resource,) = readable_plan(plan(change)).resource_changes
    lines = {c.path: (c.before, c.after) for c in resource.changes}
    assert lines["labels.team"] == ("a", KNOWN_AFTER_APPLY)
    assert lines["labels.secret"] == (SENSITIVE, SENSITIVE)
    assert lines["description"] == (SENSITIVE, SENSITIVE)
    assert lines["settings"] == ('{"k": "v"}', KNOWN_AFTER_APPLY)
    assert "x" not in json.dumps(api_shape(readable_plan(plan(change)))).replace("localcloud", "")


def test_whole_resource_sensitive() -> None:
    change = entry("localcloud_bucket.b", ["update"], {"a": "1"}, {"a": "2"}, after_sensitive=True)
    (resource,) = readable_plan(plan(change)).resource_changes
    assert [(c.before, c.after) for c in resource.changes] == [(SENSITIVE, SENSITIVE)]


def test_replace_reasons() -> None:
    by_paths = entry(TABLE, ["delete", "create"], {"x": 1}, {"x": 2}, replace_paths=[["time_partitioning"], ["x", 0]])
    by_reason = {**entry(TABLE, ["create", "delete"], {}, {}), "action_reason": "replace_because_tainted"}
    silent = entry(TABLE, ["delete", "create"], {}, {})
    result = readable_plan(plan(by_paths, by_reason, silent))
    reasons = [r.replace_reason for r in result.resource_changes]
    assert reasons[0] == "`time_partitioning`, `x[0]` cannot be changed in place"
    assert reasons[1] == "it is tainted (marked broken)"
    assert reasons[2].startswith("Terraform gives no reason")
    assert (result.add, result.change, result.destroy) == (3, 0, 3) and result.replaces_anything


def test_plain_terraform_keeps_its_address_and_reads_are_listed() -> None:
    data = {**entry("data.localcloud_table.t", ["read"], None, {"x": 1}), "mode": "data"}
    plain = entry("localcloud_bucket.exports", ["create"], None, {"name": "b"})
    other_module = entry("module.mine.localcloud_bucket.b", ["delete"], {"name": "b"}, None)
    result = readable_plan(plan(data, plain, other_module))
    assert [(r.title, r.action, r.dsl) for r in result.resource_changes] == [
        ("data.localcloud_table.t", "read", None),
        ("localcloud_bucket.exports", "create", None),
        ("module.mine.localcloud_bucket.b", "delete", None),
    ]
    assert (result.add, result.change, result.destroy) == (1, 0, 1)


def test_schema_columns_are_diffed_by_name_nested_included() -> None:
    old = [
        {"name": "dt", "type": "DATE", "mode": "REQUIRED"},
        {"name": "n", "type": "INT64"},
        {"name": "meta", "type": "RECORD", "fields": [{"name": "src", "type": "STRING"}]},
    ]
    new = [
        {"name": "dt", "type": "DATE", "mode": "NULLABLE"},
        {"name": "n", "type": "STRING"},
        {"name": "meta", "type": "RECORD", "fields": [{"name": "score", "type": "FLOAT"}]},
    ]
    change = entry(TABLE, ["update"], {"schema": json.dumps(old)}, {"schema": json.dumps(new)})
    (resource,) = readable_plan(plan(change)).resource_changes
    assert [c.sentence for c in resource.changes] == [
        "column `dt` mode REQUIRED → NULLABLE",
        "column `n` type INTEGER → STRING",
        "column `meta.src` removed (was STRING NULLABLE)",
        "column `meta.score` added (FLOAT NULLABLE)",
    ]
    assert resource.title == "table `kpis.daily`"


def test_iam_binding_members_and_grants_removed() -> None:
    binding = entry(
        "module.member_sc-7-other_dags.localcloud_iam_binding.this",
        ["update"],
        {"role": "roles/storage.objectAdmin", "members": ["group:a@x.com", "group:b@x.com"]},
        {"role": "roles/storage.objectAdmin", "members": ["group:b@x.com", "group:c@x.com"]},
    )
    result = readable_plan(plan(binding))
    (resource,) = result.resource_changes
    assert resource.title == "shared composer member `sc-7-other`"
    assert [c.sentence for c in resource.changes] == [
        "member `group:a@x.com` removed (was group:a@x.com)",
        "member `group:c@x.com` added (group:c@x.com)",
    ]
    assert [w.message for w in result.warnings] == [
        "IAM grant removed: roles/storage.objectAdmin for `group:a@x.com` (shared composer member `sc-7-other`)"
    ]


def test_row_count_unknown_or_zero() -> None:
    gone = entry(TABLE, ["delete"], {"project": "p", "dataset_id": "kpis", "table_id": "daily"}, None)
    assert [w.kind for w in readable_plan(plan(gone), row_counts=lambda *_: 0).warnings] == []
    unknown = readable_plan(plan(gone), row_counts=lambda *_: None).warnings
    assert [w.message for w in unknown] == [
        "table `kpis.daily` will be destroyed; its rows could not be counted, and any it holds are lost"
    ]

    def broken(*_):
        raise RuntimeError("unreachable")

    assert readable_plan(plan(gone), row_counts=broken).warnings[0].kind == "data_loss"


def test_drift_not_reverted_is_listed_without_a_warning() -> None:
    drifted = entry(TABLE, ["update"], {"labels": {}}, {"labels": {"a": "b"}})
    result = readable_plan(plan(drift=(drifted,)))
    assert [(r.title, r.reverted) for r in result.drift] == [("table `kpis.daily`", False)]
    assert not result.warnings and result.headline == "No changes"


def test_huge_plans_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr(readable, "MAX_RESOURCES", 5)
    monkeypatch.setattr(readable, "MAX_CHANGES", 3)
    many_labels = {f"k{i}": "v" for i in range(10)}
    changes = [entry(f"localcloud_bucket.b{i}", ["update"], {"labels": {}}, {"labels": many_labels}) for i in range(8)]
    long_value = "x" * 5000
    changes.append(entry("localcloud_bucket.long", ["update"], {"d": ""}, {"d": long_value}))
    result = readable_plan(plan(*changes))
    assert len(result.resource_changes) == 5 and result.omitted_resources == 4
    assert result.change == 9, "counts include what is not shown"
    first = result.resource_changes[0]
    assert len(first.changes) == 3 and first.omitted_changes == 7
    assert first.summary.endswith("; … 7 more")
    assert len(readable._shown(long_value)) < 300


def test_hostile_plan_shapes_do_not_crash() -> None:
    odd = [
        {"address": "x"},
        {"change": "nope"},
        entry(TABLE, ["update"], {"schema": "not json"}, {"schema": "[1, 2]"}),
        entry(TABLE, ["update"], "text", ["list"]),
    ]
    result = readable_plan({"resource_changes": odd, "resource_drift": "nope"}, sources={"a/main.yaml": ": bad"})
    assert len(result.resource_changes) == 2


def test_module_labels_as_the_compiler_writes_them() -> None:
    text = """\
infrastructure:
  gcp:
    composers:
      - name: msc
        shared:
          scheduler: bigdata-scheduler
          members:
            - project: sc-7-other
              project_id: sc-7-other-dev
              group: data@groups.example.com
    service_accounts:
      - name: bigdata-scheduler
        impersonated_by: [composer:msc]
"""
    objects = dsl_objects(text, "infrastructure/dev/main.yaml")
    assert {label: (o.kind, o.name, o.line) for label, o in objects.items()} == {
        "composer_msc": ("composer", "msc", 4),
        "member_sc-7-other_account": ("shared_member", "sc-7-other", 8),
        "member_sc-7-other_impersonation": ("shared_member", "sc-7-other", 8),
        "member_sc-7-other_dags": ("shared_member", "sc-7-other", 8),
        "composer_user_data_groups_example_com": ("composer_user", "data@groups.example.com", 10),
        "service_account_bigdata-scheduler": ("service_account", "bigdata-scheduler", 12),
        "impersonation_bigdata-scheduler_by_msc": ("impersonation", "bigdata-scheduler by composer:msc", 13),
    }
    assert object_from_label("composer_user_x").kind == "composer_user"
    assert object_from_label("plain") is None

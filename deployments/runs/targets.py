"""Which deployment targets runs may use here: listed in HANGAR_TARGETS and with the pinned provider
in the offline mirror (setup_terraform builds the local one; an operator adds others with
`setup_terraform --add-providers DIR`)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from deployments.dsl.targets import TARGETS, Target
from deployments.runs import toolchain
from localcloud.packaging import host_target

# Targets whose provider Hangar builds itself (setup_terraform): never missing from the mirror.
BUILT_HERE = {"local"}


def provider_in_mirror(target: Target, mirror: Path | None = None, platform: str | None = None) -> bool:
    """The pinned provider version for this machine, packed (`terraform providers mirror`) or unpacked."""
    folder = Path(mirror or toolchain.mirror_dir()) / target.mirror_folder()
    platform = platform or host_target()
    kind = target.provider_source.rsplit("/", 1)[-1]
    packed = folder / f"terraform-provider-{kind}_{target.provider_version}_{platform}.zip"
    unpacked = folder / target.provider_version / platform
    return packed.is_file() or (unpacked.is_dir() and any(unpacked.iterdir()))


def missing(name: str) -> list[str]:
    """What stops runs on target `name` here, as sentences for a person; [] when it is available."""
    target = TARGETS.get(name)
    if target is None:
        return [f"{name!r} is not a target; known targets: {', '.join(sorted(TARGETS))}."]
    problems = []
    enabled = [str(value) for value in settings.HANGAR_TARGETS]
    if name not in enabled:
        problems.append(
            f"target {name!r} is not enabled here: HANGAR_TARGETS is {','.join(enabled) or '(empty)'}; "
            f"add {name} to it."
        )
    if name not in BUILT_HERE and not provider_in_mirror(target):
        problems.append(
            f"provider {target.provider_source} {target.provider_version} ({host_target()}) is not in the offline "
            f"mirror {toolchain.mirror_dir()}: run `terraform providers mirror -platform={host_target()} DIR` on a "
            "machine with internet access, then `manage.py setup_terraform --add-providers DIR` here."
        )
    return problems


def available() -> list[str]:
    """Targets runs may use here, in TARGETS order."""
    return [name for name in TARGETS if not missing(name)]

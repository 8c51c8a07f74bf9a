import io
import zipfile
from datetime import UTC, datetime

import yaml

from deployments.artifacts.metadata import sha256_hex, tree_digest

BUILT_AT = datetime(2025, 9, 1, 16, 25, tzinfo=UTC)


def zip_of(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def rebuild_with_metadata(files: dict[str, bytes]) -> bytes:
    """A zip of `files` with metadata.yaml's checksums brought up to date (a tampered but consistent zip)."""
    metadata = yaml.safe_load(files["metadata.yaml"])
    content = {path: data for path, data in files.items() if path != "metadata.yaml"}
    metadata["files"] = {path: sha256_hex(data) for path, data in sorted(content.items())}
    metadata["content_sha256"] = tree_digest(metadata["files"])
    return zip_of([*content.items(), ("metadata.yaml", yaml.safe_dump(metadata).encode())])

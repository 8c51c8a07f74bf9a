"""Byte-identical zips from identical content: fixed entry order, timestamps and permissions."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

# The earliest time a zip can record; entries carry it, the real build time lives in metadata.yaml.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
REGULAR_FILE_MODE = 0o100644


def deterministic_zip(files: Mapping[str, bytes]) -> bytes:
    """A zip of `files` (archive path → content), sorted by path, with no directory entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode bits below are what readers see
            info.external_attr = REGULAR_FILE_MODE << 16
            archive.writestr(info, files[path], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()

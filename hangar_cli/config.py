"""Where `hangar` finds Hangar and its token: HANGAR_URL and HANGAR_TOKEN, else the file
`hangar login` writes (HANGAR_CONFIG, else $XDG_CONFIG_HOME/hangar/config.json, mode 0600)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


def config_path() -> Path:
    if os.environ.get("HANGAR_CONFIG"):
        return Path(os.environ["HANGAR_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hangar" / "config.json"


@dataclass(frozen=True)
class Config:
    url: str | None
    token: str | None
    url_from: str  # "HANGAR_URL", the config file's path, or "" when unset
    token_from: str


def load_config() -> Config:
    path = config_path()
    stored: dict = {}
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        stored = {}
    url, token = os.environ.get("HANGAR_URL"), os.environ.get("HANGAR_TOKEN")
    return Config(
        url=(url or stored.get("url") or None),
        token=(token or stored.get("token") or None),
        url_from="HANGAR_URL" if url else (str(path) if stored.get("url") else ""),
        token_from="HANGAR_TOKEN" if token else (str(path) if stored.get("token") else ""),
    )


def save_config(*, url: str, token: str) -> Path:
    """Write the file readable by its owner only (it holds a token)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"url": url, "token": token}, handle, indent=2)
        handle.write("\n")
    os.replace(partial, path)
    return path


def forget_config() -> bool:
    path = config_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True

"""Hangar's REST API over httpx: the token header, readable errors, patience with a restarting server."""

from __future__ import annotations

import time

import httpx

from hangar_cli import __version__


class ApiError(Exception):
    """An answer other than 2xx (status), or no answer at all (status 0), with Hangar's own words."""

    def __init__(self, status: int, message: str, payload: object = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.payload = payload


def _messages(value) -> list[str]:
    if isinstance(value, list):
        return [item for entry in value for item in _messages(entry)]
    if isinstance(value, dict):
        return [
            f"{key}: {message}" if key not in ("detail", "non_field_errors") else message
            for key, entry in value.items()
            if key != "code"
            for message in _messages(entry)
        ]
    return [str(value)]


def error_message(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        text = response.text.strip().splitlines()
        return f"HTTP {response.status_code}: {text[0][:200] if text else response.reason_phrase}"
    return "\n".join(_messages(payload)) or f"HTTP {response.status_code}"


class Client:
    def __init__(self, url: str, token: str, *, timeout: float = 60.0, transport: httpx.BaseTransport | None = None):
        self.url = url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.url,
            headers={
                "Authorization": f"Token {token}",
                "User-Agent": f"hangar-cli/{__version__}",
                "Accept": "application/json",
            },
            timeout=timeout,
            transport=transport,
        )

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ApiError(0, f"cannot reach Hangar at {self.url}: {error}") from None
        if response.status_code >= 400:
            try:
                payload = response.json()
            except ValueError:
                payload = None
            raise ApiError(response.status_code, error_message(response), payload)
        return response

    def get(self, path: str, **params) -> dict:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None}).json()

    def get_patiently(self, path: str, *, patience: float = 60.0, **params) -> dict:
        """A read that rides out a restart or a brief outage (no answer, or 502/503/504) for `patience` seconds."""
        deadline = time.monotonic() + patience
        while True:
            try:
                return self.get(path, **params)
            except ApiError as error:
                if error.status not in (0, 502, 503, 504) or time.monotonic() > deadline:
                    raise
            time.sleep(1.0)

    def post(self, path: str, *, json: dict | None = None, **kwargs) -> tuple[int, dict]:
        response = self.request("POST", path, json=json, **kwargs)
        return response.status_code, response.json()

    def close(self) -> None:
        self.http.close()

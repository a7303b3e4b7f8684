"""A small Python client for the numberdesk API (the CLI is built on it)."""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.code = problem.get("code", "error")
        super().__init__(problem.get("detail") or problem.get("title") or f"HTTP {status}")


class Client:
    def __init__(self, url: str, api_key: str, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, transport=transport,
                                  headers={"Authorization": f"Bearer {api_key}"})

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None, idempotency_key: str | None = None) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            r = self._http.request(method, path, params=clean, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise ApiError(0, {"code": "connection_error",
                               "detail": f"cannot reach numberdesk at {self._http.base_url}: {exc}"}) from exc
        if r.status_code >= 400:
            try:
                problem = r.json()
            except ValueError:
                problem = {"detail": r.text[:500]}
            raise ApiError(r.status_code, problem)
        return r.json() if r.content else None

    def raw(self, method: str, path: str, **params: Any) -> httpx.Response:
        """The HTTP response itself (for bodies that are not JSON, such as CSV)."""
        return self._http.request(method, path, params={k: v for k, v in params.items() if v is not None})

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, *, idempotency_key: str | None = None) -> Any:
        return self.request("POST", path, json=body if body is not None else {}, idempotency_key=idempotency_key)

    def iterate(self, path: str, **params: Any) -> Any:
        """Every item of a list endpoint, following cursors."""
        cursor = None
        while True:
            page = self.get(path, **params, cursor=cursor)
            yield from page["data"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

"""A small keep-alive HTTPS client for the real apiserver (raw REST, so tests see exactly what
the apiserver answers: status code, Status causes, warnings headers)."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit


@dataclass
class Answer:
    """One response: status, decoded body and the ``Warning`` headers' texts."""

    status: int
    body: Any
    warnings: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return 200 <= self.status < 300

    def violations(self) -> list[str]:
        """The field errors of a 422 as ``<field>: <message>`` (apiserver `field.Error` text)."""
        details = (self.body or {}).get("details") or {} if isinstance(self.body, dict) else {}
        return [
            f"{c['field']}: {c['message']}" if c.get("field") else str(c.get("message"))
            for c in details.get("causes") or []
        ]

    @property
    def message(self) -> str:
        return str(self.body.get("message", "")) if isinstance(self.body, dict) else str(self.body)


def _warning_text(header: str) -> str:
    # RFC 7234 warn-value: 299 - "text" (the apiserver escapes quotes and backslashes). The text
    # is UTF-8 on the wire; http.client hands header values over decoded as Latin-1.
    header = header.encode("latin-1").decode("utf-8", errors="replace")
    _code, _agent, quoted = header.split(" ", 2) if header.count(" ") >= 2 else ("", "", header)
    quoted = quoted.strip()
    if quoted.startswith('"') and quoted.endswith('"'):
        quoted = quoted[1:-1]
    return quoted.replace('\\"', '"').replace("\\\\", "\\")


class Api:
    """Thread-local keep-alive connections to ``url`` with a bearer token."""

    def __init__(self, url: str, token: str, ca_file: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 443
        self.token = token
        self.ctx = ssl.create_default_context(cafile=ca_file)
        self.timeout = timeout
        self._local = threading.local()

    def _conn(self) -> http.client.HTTPSConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPSConnection(
                self.host, self.port, context=self.ctx, timeout=self.timeout
            )
            self._local.conn = conn
        return conn

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        content_type: str = "application/json",
        raw: bytes | None = None,
    ) -> Answer:
        """One request; retries once on a dropped keep-alive connection."""
        url = path + ("?" + urlencode(query) if query else "")
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        for attempt in (0, 1):
            conn = self._conn()
            try:
                conn.request(method, url, body=data, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
                break
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        try:
            decoded: Any = json.loads(payload)
        except ValueError:
            decoded = payload.decode(errors="replace")
        warnings = [_warning_text(v) for k, v in resp.getheaders() if k.lower() == "warning"]
        return Answer(resp.status, decoded, warnings)


def collection(obj: dict[str, Any], plural: str) -> str:
    """The collection path of a namespaced custom resource."""
    group_version = obj.get("apiVersion", "")
    ns = (obj.get("metadata") or {}).get("namespace") or "default"
    return f"/apis/{group_version}/namespaces/{ns}/{plural}"

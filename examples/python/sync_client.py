"""A small trpc-offline-sync REST client in Python 3 standard library only: push, pull, full export, SSE stream."""
from __future__ import annotations

import gzip
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional


class SyncApiError(Exception):
    """An error answer of the API: HTTP status plus the protocol's {error: {code, message, issues}} body."""

    def __init__(self, status: int, body: Any, retry_after: Optional[float] = None):
        error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        # Seconds to wait before retrying, from the Retry-After header of a 429 (rate limited).
        self.retry_after = retry_after
        self.code = error.get("code", "UNKNOWN")
        self.issues = error.get("issues", [])
        # On CLIENT_ID_CONFLICT: the pushed mutation ids the server already holds as these very changes.
        self.recorded = error.get("recorded", [])
        super().__init__(f"HTTP {status} {self.code}: {error.get('message', body)}")


@dataclass
class FullPage:
    """One page of a full export."""

    docs: list
    checkpoint: str
    cursor: Optional[str]
    gzipped: bool


@dataclass
class SseEvent:
    """One Server-Sent Event: its id (a checkpoint for `changes`), name and JSON data."""

    event: str
    data: Any
    id: Optional[str] = None


@dataclass
class SyncClient:
    """Talks to the REST face at `base_url` (e.g. http://127.0.0.1:3000 or .../api) with a bearer token."""

    base_url: str
    token: str
    client_id: str
    timeout: float = 15.0
    next_mutation_id: int = field(default=1)

    def _url(self, path: str, query: Optional[dict] = None) -> str:
        url = self.base_url.rstrip("/") + path
        if query:
            items = {k: v for k, v in query.items() if v is not None}
            if items:
                url += "?" + urllib.parse.urlencode(items)
        return url

    def _request(self, method: str, path: str, query: Optional[dict] = None, body: Any = None, headers: Optional[dict] = None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self._url(path, query), data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return res.status, res.headers, res.read()
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            header = error.headers.get("Retry-After") if error.headers else None
            retry_after = float(header) if header and header.strip().isdigit() else None
            raise SyncApiError(error.code, parsed, retry_after) from None

    def health(self) -> dict:
        return json.loads(self._request("GET", "/sync/health")[2])

    def changes(self, docs: list) -> list:
        """Gives each change the next mutation id (strictly increasing for this client)."""
        out = []
        for change in docs:
            out.append({"mutationId": self.next_mutation_id, **change})
            self.next_mutation_id += 1
        return out

    def push(self, changes: list, atomic: bool = True, retries: int = 3, max_wait: float = 60.0) -> dict:
        """Pushes a batch; on a lost connection it sends the SAME batch again (same mutation ids), which the server answers with duplicates.
        A 429 (rate limited) is retried after the server's Retry-After, when that is at most `max_wait` seconds.
        A 409 CLIENT_ID_CONFLICT (this client id's ledger holds other changes under these ids: a copied device, or another
        user's id) applied nothing: the client takes a new client id, renumbers the changes the server does not already
        hold and sends them once more; the answer then lists the held ones as `duplicate`."""
        body = {"clientId": self.client_id, "atomic": atomic, "changes": changes}
        held: list = []
        for attempt in range(retries + 1):
            try:
                answer = json.loads(self._request("POST", "/sync/push", body=body)[2])
                answer["results"] = held + answer["results"]
                return answer
            except SyncApiError as error:
                if error.code == "CLIENT_ID_CONFLICT" and not held and body["changes"] is changes:
                    recorded = set(error.recorded)
                    held = [{"mutationId": c["mutationId"], "collection": c["collection"], "id": c["id"], "status": "duplicate"} for c in changes if c["mutationId"] in recorded]
                    self.client_id = f"py-{uuid.uuid4().hex[:16]}"
                    self.next_mutation_id = 1
                    rest = self.changes([{k: v for k, v in c.items() if k != "mutationId"} for c in changes if c["mutationId"] not in recorded])
                    body = {"clientId": self.client_id, "atomic": atomic, "changes": rest}
                    continue
                if error.status != 429 or attempt == retries or (error.retry_after or 0) > max_wait:
                    raise
                time.sleep(error.retry_after if error.retry_after is not None else min(2.0, 0.2 * 2 ** attempt))
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if attempt == retries:
                    raise
                time.sleep(min(2.0, 0.2 * 2 ** attempt))
        raise AssertionError("unreachable")

    def pull(self, since: Optional[str] = None, collections: Optional[list] = None, limit: Optional[int] = None) -> dict:
        query = {"since": since or None, "collections": ",".join(collections) if collections else None, "limit": limit}
        return json.loads(self._request("GET", "/sync/pull", query=query)[2])

    def pull_all(self, since: Optional[str] = None, collections: Optional[list] = None, limit: Optional[int] = None):
        """Pulls page after page until hasMore is false; returns (changes, checkpoint, pages)."""
        changes, pages = [], 0
        while True:
            page = self.pull(since, collections, limit)
            changes.extend(page["changes"])
            since = page["checkpoint"]
            pages += 1
            if not page["hasMore"]:
                return changes, since, pages

    def full_pages(self, collections: Optional[list] = None, limit: Optional[int] = None, use_gzip: bool = True) -> Iterator[FullPage]:
        """Reads a full export page by page (NDJSON, gzip when asked), following X-Sync-Cursor until it is absent."""
        cursor = None
        while True:
            query = {"collections": ",".join(collections) if collections else None, "cursor": cursor, "limit": limit}
            headers = {"Accept-Encoding": "gzip"} if use_gzip else {}
            _, res_headers, raw = self._request("GET", "/sync/full", query=query, headers=headers)
            gzipped = res_headers.get("Content-Encoding") == "gzip"
            text = (gzip.decompress(raw) if gzipped else raw).decode("utf-8")
            docs = [json.loads(line) for line in text.splitlines() if line.strip()]
            cursor = res_headers.get("X-Sync-Cursor")
            yield FullPage(docs, res_headers.get("X-Sync-Checkpoint"), cursor, gzipped)
            if not cursor:
                return

    def stream(self, since: Optional[str] = None, last_event_id: Optional[str] = None, collections: Optional[list] = None) -> Iterator[SseEvent]:
        """Follows GET /sync/stream (SSE). Pass the last event id seen to resume without gaps or duplicates."""
        url = urllib.parse.urlsplit(self._url("/sync/stream", {"since": since, "collections": ",".join(collections) if collections else None}))
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=self.timeout)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        conn.request("GET", url.path + (f"?{url.query}" if url.query else ""), headers=headers)
        res = conn.getresponse()
        if res.status != 200:
            body = res.read()
            conn.close()
            raise SyncApiError(res.status, json.loads(body or b"{}"))
        try:
            event, data, event_id = "message", [], None
            while True:
                line = res.readline()
                if not line:
                    return
                line = line.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if data:
                        yield SseEvent(event, json.loads("\n".join(data)), event_id)
                    event, data, event_id = "message", [], None
                elif line.startswith(":"):
                    continue
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "event":
                        event = value
                    elif name == "data":
                        data.append(value)
                    elif name == "id":
                        event_id = value
        finally:
            conn.close()

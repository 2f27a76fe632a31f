"""Demo of the stdlib client: `python3 demo.py <base_url> <token>`; prints a report, exits 0 only if every check passed."""
from __future__ import annotations

import secrets
import sys

from sync_client import SyncApiError, SyncClient


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: demo.py <base_url> <token>", file=sys.stderr)
        return 2
    base, token = sys.argv[1], sys.argv[2]
    run = secrets.token_hex(3)
    client = SyncClient(base, token, client_id=f"py-{run}")
    failures = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        print(f"{'OK  ' if ok else 'FAIL'} {name}{(': ' + detail) if detail else ''}")
        if not ok:
            failures.append(name)

    health = client.health()
    check("health", health.get("ok") is True, f"store={health.get('store')}")

    # Push, then retry the very same batch as if the first answer had been lost.
    batch = client.changes([{"collection": "tasks", "id": f"{run}-{i}", "op": "upsert", "data": {"title": f"task {i}"}} for i in range(3)])
    first = client.push(batch)
    retry = client.push(batch)
    check("push", [r["status"] for r in first["results"]] == ["accepted"] * 3, "3 accepted")
    check("push retry", [r["status"] for r in retry["results"]] == ["duplicate"] * 3, "3 duplicates")

    # A copy of this client (a restored backup: same client id, same next mutation id) writes other changes.
    clone = SyncClient(client.base_url, client.token, client.client_id, next_mutation_id=client.next_mutation_id)
    mine = client.push(client.changes([{"collection": "tasks", "id": f"copied-{run}-orig", "op": "upsert", "data": {"title": "original"}}]))
    theirs = clone.push(clone.changes([{"collection": "tasks", "id": f"copied-{run}-copy", "op": "upsert", "data": {"title": "copy"}}]))
    check("copied client", mine["results"][0]["status"] == "accepted" and theirs["results"][0]["status"] == "accepted" and clone.client_id != client.client_id,
          f"CLIENT_ID_CONFLICT answered, the copy re-sent as {clone.client_id}")

    for i in range(3, 12):
        client.push(client.changes([{"collection": "tasks", "id": f"{run}-{i}", "op": "upsert", "data": {"title": f"task {i}"}}]))
    changes, checkpoint, pages = client.pull_all(limit=4)
    mine = {c["id"] for c in changes if c["id"].startswith(run)}
    check("pull paging", len(mine) == 12 and pages >= 3, f"{len(mine)} docs in {pages} pages")

    checkpoints, docs, gzipped, last_cursor = set(), [], True, "?"
    for page in client.full_pages(limit=5, use_gzip=True):
        checkpoints.add(page.checkpoint)
        docs.extend(page.docs)
        gzipped = gzipped and page.gzipped
        last_cursor = page.cursor
    full_mine = [d for d in docs if d["id"].startswith(run)]
    check("full export", len(full_mine) == 12 and len(checkpoints) == 1 and gzipped and last_cursor is None,
          f"{len(full_mine)} docs, gzip={gzipped}, one checkpoint={len(checkpoints) == 1}")

    # Live stream: catch up from the pull checkpoint, see two new commits, then resume after disconnecting.
    events = client.stream(since=checkpoint)
    client.push(client.changes([{"collection": "tasks", "id": f"{run}-live-{i}", "op": "upsert", "data": {"title": "live"}} for i in range(2)]))
    seen, last_id = [], None
    for event in events:
        if event.event == "changes":
            seen.extend(c["id"] for c in event.data["changes"])
            last_id = event.id
        if len(seen) >= 2:
            break
    events.close()
    check("stream", seen == [f"{run}-live-0", f"{run}-live-1"] and last_id is not None, f"{len(seen)} live changes")

    client.push(client.changes([{"collection": "tasks", "id": f"{run}-after", "op": "upsert", "data": {"title": "while away"}}]))
    resumed = client.stream(last_event_id=last_id)
    after = []
    for event in resumed:
        if event.event == "changes":
            after.extend(c["id"] for c in event.data["changes"])
            break
    resumed.close()
    check("stream resume", after == [f"{run}-after"], "Last-Event-ID resumed with no gap or duplicate")

    try:
        client.pull(limit=0)
        check("error body", False, "limit=0 was accepted")
    except SyncApiError as error:
        check("error body", error.status == 400 and error.code == "BAD_REQUEST", f"{error.status} {error.code}")

    print("ALL CHECKS PASSED" if not failures else f"FAILED: {', '.join(failures)}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())

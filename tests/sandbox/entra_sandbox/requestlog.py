"""The request log: append-only tuples, turned into dicts only when read (cheap at 100k requests)."""

import time

FIELDS = ("seq", "time", "method", "path", "query", "status", "kind", "tenant_id", "app_id", "body", "fault", "request_id", "headers")


class RequestLog:
    def __init__(self):
        self._entries = []
        self._seq = 0

    def add(self, method, path, query, status, kind, tenant_id=None, app_id=None, body=None, fault=None, request_id=None,
            headers=None):
        self._seq += 1
        self._entries.append((self._seq, time.time(), method, path, query, status, kind, tenant_id, app_id, body, fault, request_id,
                              headers or {}))
        return self._seq

    def since(self, seq=0, limit=None, kind=None):
        # Sequence numbers are increasing, so find the start by bisecting instead of scanning.
        entries = self._entries
        low, high = 0, len(entries)
        while low < high:
            mid = (low + high) // 2
            if entries[mid][0] <= seq:
                low = mid + 1
            else:
                high = mid
        out = []
        for entry in entries[low:]:
            if kind is not None and entry[6] != kind:
                continue
            out.append(dict(zip(FIELDS, entry, strict=True)))
            if limit is not None and len(out) >= limit:
                break
        return out

    def clear(self):
        # Sequence numbers keep growing so a reader's `since` stays meaningful after a clear.
        self._entries = []

    @property
    def last_seq(self):
        return self._seq

    def __len__(self):
        return len(self._entries)

"""JSON batching (`POST /v1.0/$batch`): each item goes through GraphService.execute on its own."""

import json
import uuid
from urllib.parse import parse_qsl, urlsplit

from .errors import error_body
from .graph_api import GraphCall, GraphError, GraphResult, logged_headers

MAX_ITEMS = 20
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _bad(message):
    return GraphError(400, "BadRequest", message)


def parse_batch(body):
    """Validate the envelope as Graph does: any problem fails the whole batch with 400."""
    try:
        payload = json.loads(body or b"")
    except ValueError as exc:
        raise _bad("Invalid batch payload format.") from exc
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list) or not requests:
        raise _bad("Invalid batch payload format: 'requests' must be a non-empty array.")
    if len(requests) > MAX_ITEMS:
        raise _bad("The number of requests in a batch cannot exceed %d." % MAX_ITEMS)
    seen = set()
    for item in requests:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item.get("id"):
            raise _bad("Each batch request needs a string 'id'.")
        if item["id"] in seen:
            raise _bad("Batch request ids must be unique; '%s' is repeated." % item["id"])
        seen.add(item["id"])
        if str(item.get("method", "")).upper() not in _METHODS:
            raise _bad("Invalid method '%s' in batch request '%s'." % (item.get("method"), item["id"]))
        url = item.get("url")
        if not isinstance(url, str) or not url or urlsplit(url).scheme or url.startswith("//"):
            raise _bad("The url of batch request '%s' must be a relative URL." % item["id"])
        headers = {str(k).lower(): v for k, v in (item.get("headers") or {}).items()}
        if item.get("body") is not None and "content-type" not in headers:
            raise _bad("A Content-Type header is required for batch request '%s' because it has a body." % item["id"])
        for dependency in item.get("dependsOn") or ():
            if dependency not in seen or dependency == item["id"]:
                raise _bad("Batch request '%s' depends on an unknown or later request '%s'." % (item["id"], dependency))
    return requests


def _item_call(item, envelope):
    parts = urlsplit(item["url"])
    path = "/v1.0/" + parts.path.lstrip("/")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    body = item.get("body")
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    headers = {str(k).lower(): v for k, v in (item.get("headers") or {}).items()}
    return GraphCall(method=item["method"].upper(), path=path, query=query, query_string=parts.query, body=body or b"",
                     request_id=str(uuid.uuid4()), client_request_id=headers.get("client-request-id") or envelope.client_request_id,
                     in_batch=True, headers=logged_headers(item.get("headers")))


def _item_response(item_id, call, result):
    headers = dict(result.headers)
    entry = {"id": item_id, "status": result.status, "headers": headers}
    if result.body is not None:
        headers.setdefault("Content-Type", "application/json")
        entry["body"] = result.body if not isinstance(result.body, bytes) else result.body.decode(errors="replace")
    headers.setdefault("request-id", call.request_id)
    return entry


def run_batch(service, envelope, principal):
    """Run every item; return the envelope's GraphResult (200 with shuffled responses)."""
    sandbox = service.sandbox
    try:
        requests = parse_batch(envelope.body)
    except GraphError as exc:
        return service.error_result(exc, envelope)
    responses = []
    statuses = {}
    drop = None
    malformed = False
    for item in requests:
        call = _item_call(item, envelope)
        failed = [dep for dep in item.get("dependsOn") or () if statuses.get(dep, 500) >= 400]
        if failed:
            result = GraphResult(424, error_body("FailedDependency", "The dependent request '%s' failed." % failed[0],
                                                 call.request_id, call.client_request_id))
        else:
            result = service.execute(call, principal)
        statuses[item["id"]] = result.status if result.status is not None else 599
        sandbox.record("batch_item", call.method, call.path, call.query_string, result.status, principal.tenant_id,
                       principal.app_id, call.loggable_body(), result.fault, call.request_id, call.headers)
        if result.drop:
            # One item's connection fault takes the whole batch's connection with it.
            drop = drop or result.fault
            if result.status is None:
                continue
        malformed = malformed or result.fault == "malformed"
        responses.append(_item_response(item["id"], call, result))
    sandbox.batch_rng.shuffle(responses)
    if drop:
        return GraphResult(200, {"responses": responses}, drop=True, fault=drop)
    if malformed:
        return GraphResult(200, json.dumps({"responses": responses}).encode()[:-7], fault="malformed")
    return GraphResult(200, {"responses": responses})

"""Graph's error body: {"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}."""

import time


class GraphError(Exception):
    """A Graph call refused with an HTTP status, an error code and a message (graph_api.py makes the body)."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_body(code, message, request_id, client_request_id, inner_extra=None):
    inner = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
        "request-id": request_id,
        "client-request-id": client_request_id,
    }
    inner.update(inner_extra or {})
    return {"error": {"code": code, "message": message, "innerError": inner}}


def throttled_body(request_id, client_request_id):
    # The documented 429 sample carries extra innerError fields.
    return error_body("TooManyRequests", "Please retry again later.", request_id, client_request_id,
                      {"code": "429", "message": "Please retry after", "status": "429"})


def format_retry_after(seconds):
    """Fractional seconds as Graph writes them (e.g. "0.437"); never "0"."""
    return "%.3f" % max(0.001, seconds)

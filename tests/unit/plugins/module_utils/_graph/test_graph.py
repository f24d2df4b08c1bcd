# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for GraphClient: retries, the POST safety rule, token refresh, paging, error text.

Most tests script the session's responses and exceptions and run on a fake clock; a few talk to a local
HTTPS server started here, to check that real requests exceptions are classified the way the fakes assume.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import trustme
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict

from ansible_collections.entra.sync.plugins.module_utils._auth.base import AccessToken
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, GraphError
from ansible_collections.entra.sync.plugins.module_utils._graph import client as graph_client
from ansible_collections.entra.sync.plugins.module_utils._graph import retry
from ansible_collections.entra.sync.plugins.module_utils._graph.client import GraphClient, quote_segment
from ansible_collections.entra.sync.plugins.module_utils._graph.retry import backoff_delay
from ansible_collections.entra.sync.plugins.module_utils._graph.sync_api import SyncApi, job_path, jobs_path
from ansible_collections.entra.sync.plugins.module_utils._settings.options import settings_from_options

ROOT = "https://graph.test"
BASE = ROOT + "/v1.0"
SP_ID = "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
JOB_ID = "AD2AADProvisioning.fd1c9b9e8077402c8bc03a7186c8f976"
JOB_PATH = "/servicePrincipals/%s/synchronization/jobs/%s" % (SP_ID, JOB_ID)
RESTART_PATH = JOB_PATH + "/restart"
TOKEN = "eyJ0eXAi.SECRET-TOKEN-ONE.sig"
TOKEN_2 = "eyJ0eXAi.SECRET-TOKEN-TWO.sig"
TOKEN_3 = "eyJ0eXAi.SECRET-TOKEN-THREE.sig"
RESTART_BODY = {"criteria": {"resetScope": "Escrows, Watermark, QuarantineState"}}


def settings(**options):
    options.setdefault("graph_endpoint", ROOT)
    return settings_from_options(options.get)


class FakeCredential:
    method = "client_secret"

    def __init__(self, tokens=(TOKEN, TOKEN_2, TOKEN_3), refresh_error=None):
        self.tokens = list(tokens)
        self.current = 0
        self.refreshes = 0
        self.refresh_error = refresh_error

    def get_token(self, force_refresh=False):
        if force_refresh:
            self.refreshes += 1
            if self.refresh_error is not None:
                raise self.refresh_error
            self.current += 1
        return AccessToken(self.tokens[self.current], 0, "test")


def response(status, body=None, headers=None, raw=None):
    """A real requests.Response, so that .json() and .content behave as they do on the wire."""
    result = requests.Response()
    result.status_code = status
    result.headers = CaseInsensitiveDict(headers or {})
    if raw is not None:
        result._content = raw
    elif body is None:
        result._content = b""
    else:
        result._content = json.dumps(body).encode()
        result.headers.setdefault("Content-Type", "application/json")
    result.encoding = "utf-8"
    return result


def graph_error(status, code, message="", headers=None):
    body = {"error": {"code": code, "message": message, "innerError": {"request-id": "req-%d" % status}}}
    return response(status, body, headers)


class Script:
    """Stands in for Session.request: hands out scripted responses or raises scripted exceptions, recording each call."""

    def __init__(self, steps):
        self.steps = list(steps)
        self.calls = []

    def __call__(self, method, url, **kwargs):
        self.calls.append(dict(kwargs, method=method, url=url))
        if not self.steps:
            raise AssertionError("more requests than scripted: %s %s" % (method, url))
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    @property
    def tokens(self):
        return [call["headers"]["Authorization"] for call in self.calls]


def scripted(steps, credential=None, write_rate=None, **options):
    client = GraphClient(settings(**options), credential or FakeCredential(), write_rate=write_rate)
    script = Script(steps)
    client._session.request = script
    return client, script


def read_timeout():
    return requests.exceptions.ReadTimeout(urllib3.exceptions.ReadTimeoutError(None, BASE, "Read timed out. (read timeout=30)"))


def connection_reset():
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    )


def new_connection_error():
    reason = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, BASE, reason))


def name_resolution_error():
    reason = urllib3.exceptions.NameResolutionError("graph.test", None, socket.gaierror(-2, "Name or service not known"))
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, BASE, reason))


def connect_timeout():
    reason = urllib3.exceptions.ConnectTimeoutError(None, "Connection to graph.test timed out. (connect timeout=30)")
    return requests.exceptions.ConnectTimeout(urllib3.exceptions.MaxRetryError(None, BASE, reason))


# ---------------------------------------------------------------------------------------------------
# One request


def test_get_sends_token_verify_and_timeout(clock, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    client, script = scripted([response(200, {"id": JOB_ID})], ca_path=str(bundle), timeout=12)
    assert client.get(JOB_PATH, {"$select": "id"}) == {"id": JOB_ID}
    call = script.calls[0]
    assert call["method"] == "GET"
    assert call["url"] == BASE + JOB_PATH
    assert call["params"] == {"$select": "id"}
    assert call["headers"] == {"Authorization": "Bearer " + TOKEN, "Accept": "application/json"}
    # Per request: REQUESTS_CA_BUNDLE would override Session.verify.
    assert call["verify"] == str(bundle)
    assert call["timeout"] == 12.0
    assert clock.sleeps == []


def test_validate_certs_false_is_passed_per_request(clock):
    client, script = scripted([response(200, {})], validate_certs=False)
    client.get("/servicePrincipals")
    assert script.calls[0]["verify"] is False


def test_post_sends_the_body_and_returns_none(clock):
    client, script = scripted([response(204)])
    assert client.post(RESTART_PATH, RESTART_BODY) is None
    assert script.calls[0]["method"] == "POST"
    assert script.calls[0]["json"] == RESTART_BODY
    assert script.calls[0]["url"] == BASE + RESTART_PATH


def test_post_without_a_body(clock):
    client, script = scripted([response(204)])
    client.post(JOB_PATH + "/start")
    assert script.calls[0]["json"] is None


def test_get_with_an_empty_body_returns_none(clock):
    client, dummy = scripted([response(200)])
    assert client.get(JOB_PATH) is None


def test_requests_is_required(monkeypatch):
    monkeypatch.setattr(graph_client, "HAS_REQUESTS", False)
    with pytest.raises(GraphError) as info:
        GraphClient(settings(), FakeCredential())
    assert "pip install requests" in str(info.value)


# ---------------------------------------------------------------------------------------------------
# GET retries


def test_get_429_honours_a_fractional_retry_after(clock):
    client, script = scripted([graph_error(429, "TooManyRequests", headers={"Retry-After": "0.5"}), response(200, {"ok": 1})])
    assert client.get(JOB_PATH) == {"ok": 1}
    assert clock.sleeps == [pytest.approx(0.5)]
    assert len(script.calls) == 2
    assert client.stats() == {"GET requests": 2, "throttled": 1, "retries": 1}


def test_429_pauses_every_worker_of_the_client(clock):
    client, script = scripted([graph_error(429, "TooManyRequests", headers={"Retry-After": "2.128"}), response(200, {})])
    client.get(JOB_PATH)
    assert clock.sleeps == [pytest.approx(2.128)]
    # Another worker arriving while a pause is in force waits for what is left of it.
    client._pause_all(3.0)
    clock.now += 1.0
    script.steps.append(response(200, {}))
    client.get(JOB_PATH)
    assert clock.sleeps[-1] == pytest.approx(2.0)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_get_retries_server_errors_with_backoff(clock, status):
    client, script = scripted([graph_error(status, "ServiceUnavailable"), graph_error(status, "ServiceUnavailable"), response(200, {"ok": 1})])
    assert client.get(JOB_PATH) == {"ok": 1}
    assert len(script.calls) == 3
    first, second = clock.sleeps
    assert 0.25 <= first <= 0.5
    assert 0.5 <= second <= 1.0


def test_503_honours_retry_after(clock):
    client, dummy = scripted([graph_error(503, "ServiceUnavailable", headers={"Retry-After": "3"}), response(200, {})])
    client.get(JOB_PATH)
    assert clock.sleeps == [3.0]


def test_retry_after_is_capped(clock):
    client, dummy = scripted([graph_error(429, "TooManyRequests", headers={"Retry-After": "86400"}), response(200, {})])
    client.get(JOB_PATH)
    assert clock.sleeps == [120.0]


@pytest.mark.parametrize("error", [connection_reset, read_timeout, new_connection_error, connect_timeout])
def test_get_retries_connection_errors(clock, error):
    client, script = scripted([error(), response(200, {"ok": 1})])
    assert client.get(JOB_PATH) == {"ok": 1}
    assert len(script.calls) == 2
    assert len(clock.sleeps) == 1
    assert client.stats()["retries"] == 1


def test_get_retries_a_chunked_encoding_error(clock):
    client, script = scripted([requests.exceptions.ChunkedEncodingError("broken"), response(200, {})])
    client.get(JOB_PATH)
    assert len(script.calls) == 2


def test_get_retries_a_malformed_json_body(clock):
    client, script = scripted([response(200, raw=b"{not json"), response(200, {"ok": 1})])
    assert client.get(JOB_PATH) == {"ok": 1}
    assert len(script.calls) == 2


def test_get_gives_up_on_malformed_json(clock):
    client, script = scripted([response(200, raw=b"<html>")] * 3, max_retries=2)
    with pytest.raises(GraphError) as info:
        client.get(JOB_PATH)
    assert len(script.calls) == 3
    assert info.value.status == 200
    assert "not JSON" in str(info.value)
    assert not info.value.outcome_unknown


@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_max_retries_is_respected(clock, max_retries):
    steps = [graph_error(429, "TooManyRequests", headers={"Retry-After": "1"})] * (max_retries + 1)
    client, script = scripted(steps, max_retries=max_retries)
    with pytest.raises(GraphError) as info:
        client.get(JOB_PATH)
    assert len(script.calls) == max_retries + 1
    assert clock.sleeps == [1.0] * max_retries
    assert info.value.status == 429
    assert "gave up after %d attempts" % (max_retries + 1) in str(info.value)
    assert client.stats()["throttled"] == max_retries + 1


def test_get_connection_errors_give_up_after_max_retries(clock):
    client, script = scripted([connection_reset()] * 3, max_retries=2)
    with pytest.raises(GraphError) as info:
        client.get(JOB_PATH)
    assert len(script.calls) == 3
    assert "after 3 attempts" in str(info.value)
    assert not info.value.outcome_unknown


@pytest.mark.parametrize("status, code", [(400, "BadRequest"), (403, "Authorization_RequestDenied"), (404, "Request_ResourceNotFound"), (409, "Conflict")])
def test_get_client_errors_are_not_retried(clock, status, code):
    client, script = scripted([graph_error(status, code, "nope")])
    with pytest.raises(GraphError) as info:
        client.get(JOB_PATH)
    assert len(script.calls) == 1
    assert info.value.status == status
    assert info.value.code == code
    assert info.value.request_id == "req-%d" % status
    assert not info.value.outcome_unknown
    assert str(info.value).startswith("GET %s failed: HTTP %d %s: nope" % (JOB_PATH, status, code))


def test_error_with_a_non_json_body(clock):
    client, dummy = scripted([response(404, raw=b"<html>Not Found</html>")])
    with pytest.raises(GraphError) as info:
        client.get(JOB_PATH)
    assert info.value.status == 404
    assert info.value.code == ""
    assert "service_principal_id" in str(info.value)


def test_tls_failure_is_not_retried_and_points_at_ca_path(clock):
    client, script = scripted([requests.exceptions.SSLError("certificate verify failed")])
    with pytest.raises(GraphError) as info:
        client.get(JOB_PATH)
    assert len(script.calls) == 1
    assert "ca_path" in str(info.value)
    assert ROOT in str(info.value)


# ---------------------------------------------------------------------------------------------------
# POST: retried only when the service cannot have acted on it


@pytest.mark.parametrize("status, code", [(429, "TooManyRequests"), (503, "ServiceUnavailable")])
def test_post_retried_on_429_and_503(clock, status, code):
    client, script = scripted([graph_error(status, code, headers={"Retry-After": "0.5"}), response(204)])
    assert client.post(RESTART_PATH, RESTART_BODY) is None
    assert [call["json"] for call in script.calls] == [RESTART_BODY, RESTART_BODY]
    assert clock.sleeps == [pytest.approx(0.5)]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_post_server_errors_are_outcome_unknown_and_sent_once(clock, status):
    client, script = scripted([graph_error(status, "GatewayTimeout")])
    with pytest.raises(GraphError) as info:
        client.post(RESTART_PATH, RESTART_BODY)
    assert len(script.calls) == 1
    assert info.value.status == status
    assert info.value.outcome_unknown
    assert "may have been processed" in str(info.value)


@pytest.mark.parametrize("error", [read_timeout, connection_reset, lambda: requests.exceptions.ChunkedEncodingError("cut")])
def test_post_after_the_request_left_is_outcome_unknown_and_sent_once(clock, error):
    client, script = scripted([error(), response(204)])
    with pytest.raises(GraphError) as info:
        client.post(RESTART_PATH, RESTART_BODY)
    assert len(script.calls) == 1
    assert info.value.outcome_unknown
    assert info.value.status is None
    assert "not sent again" in str(info.value)
    assert RESTART_PATH in str(info.value)
    assert clock.sleeps == []


@pytest.mark.parametrize("error", [new_connection_error, name_resolution_error, connect_timeout])
def test_post_that_never_left_is_retried(clock, error):
    client, script = scripted([error(), error(), response(204)])
    assert client.post(RESTART_PATH, RESTART_BODY) is None
    assert len(script.calls) == 3
    assert len(clock.sleeps) == 2


def test_post_that_never_left_gives_up_as_failed_not_unknown(clock):
    client, script = scripted([new_connection_error()] * 3, max_retries=2)
    with pytest.raises(GraphError) as info:
        client.post(RESTART_PATH, RESTART_BODY)
    assert len(script.calls) == 3
    assert not info.value.outcome_unknown


def test_post_429_until_max_retries(clock):
    client, script = scripted([graph_error(429, "TooManyRequests", headers={"Retry-After": "0.1"})] * 2, max_retries=1)
    with pytest.raises(GraphError) as info:
        client.post(RESTART_PATH, RESTART_BODY)
    assert len(script.calls) == 2
    assert not info.value.outcome_unknown


def test_post_does_not_parse_the_body(clock):
    client, dummy = scripted([response(200, raw=b"not json at all")])
    assert client.post(RESTART_PATH, RESTART_BODY) is None


# ---------------------------------------------------------------------------------------------------
# Token refresh


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_invalid_token_refreshes_once_then_succeeds(clock, method):
    credential = FakeCredential()
    client, script = scripted([graph_error(401, "InvalidAuthenticationToken", "Access token has expired."), response(200, {"ok": 1})], credential)
    if method == "GET":
        assert client.get(JOB_PATH) == {"ok": 1}
    else:
        client.post(RESTART_PATH, RESTART_BODY)
    assert credential.refreshes == 1
    assert script.tokens == ["Bearer " + TOKEN, "Bearer " + TOKEN_2]
    assert client.stats()["token refreshes"] == 1
    assert clock.sleeps == []


def test_a_fresh_token_rejected_once_more_is_refreshed_again(clock):
    """A token can meet an expiry check that lags behind (seen under the chaos profile): one more refresh, then it works."""
    credential = FakeCredential(tokens=(TOKEN, TOKEN_2, "third-token"))
    client, script = scripted([graph_error(401, "InvalidAuthenticationToken")] * 2 + [response(200, {"ok": 1})], credential)
    assert client.get(JOB_PATH) == {"ok": 1}
    assert credential.refreshes == 2 and len(script.calls) == 3


def test_invalid_token_after_every_refresh_fails(clock):
    credential = FakeCredential(tokens=(TOKEN, TOKEN_2, "third-token", "never-used"))
    client, script = scripted([graph_error(401, "InvalidAuthenticationToken")] * (retry.TOKEN_REFRESHES + 1), credential)
    with pytest.raises(GraphError) as info:
        client.get(JOB_PATH)
    assert credential.refreshes == retry.TOKEN_REFRESHES
    assert len(script.calls) == retry.TOKEN_REFRESHES + 1
    assert info.value.status == 401
    assert "check cloud and graph_endpoint" in str(info.value)


def test_refresh_failure_becomes_a_graph_error(clock):
    credential = FakeCredential(refresh_error=AuthError("The access_token has expired or was rejected and cannot be refreshed."))
    client, script = scripted([graph_error(401, "InvalidAuthenticationToken")], credential)
    with pytest.raises(GraphError) as info:
        client.post(RESTART_PATH, RESTART_BODY)
    assert "cannot be refreshed" in str(info.value)
    assert info.value.status == 401
    assert len(script.calls) == 1


def test_refresh_failure_keeps_why_graph_refused_the_token(clock):
    """A given token of the wrong cloud is not 'expired': the message keeps Graph's reason beside the refresh advice."""
    credential = FakeCredential(refresh_error=AuthError("The access_token has expired or was rejected and cannot be refreshed."))
    client, dummy = scripted([graph_error(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")], credential)
    with pytest.raises(GraphError) as info:
        client.get(JOB_PATH)
    text = str(info.value)
    assert "Invalid audience" in text and "check cloud and graph_endpoint" in text and "cannot be refreshed" in text
    assert TOKEN not in text


def test_token_already_refreshed_by_another_worker_is_not_refreshed_again(clock):
    credential = FakeCredential()
    client, dummy = scripted([], credential)
    client._refresh_token("a token another worker already replaced")
    assert credential.refreshes == 0
    client._refresh_token(TOKEN)
    assert credential.refreshes == 1


def test_401_unknown_error_is_a_permission_problem_not_a_refresh(clock):
    credential = FakeCredential()
    client, script = scripted([graph_error(401, "UnknownError")], credential)
    with pytest.raises(GraphError) as info:
        client.post(RESTART_PATH, RESTART_BODY)
    assert credential.refreshes == 0
    assert len(script.calls) == 1
    assert "Synchronization.ReadWrite.All" in str(info.value)
    assert "Application Administrator" not in str(info.value)


def jwt(claims):
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return "eyJhbGciOiJub25lIn0.%s.sig" % encoded


def test_delegated_token_gets_the_role_hint(clock):
    credential = FakeCredential(tokens=(jwt({"scp": "Synchronization.ReadWrite.All", "exp": 1}),))
    client, dummy = scripted([graph_error(403, "Authorization_RequestDenied")], credential)
    with pytest.raises(GraphError) as info:
        client.post(RESTART_PATH, RESTART_BODY)
    assert "Cloud Application Administrator" in str(info.value)


# ---------------------------------------------------------------------------------------------------
# No token in any error


FAILURES = [
    ("GET", [graph_error(401, "InvalidAuthenticationToken")] * 3),
    ("GET", [graph_error(401, "UnknownError")]),
    ("GET", [graph_error(429, "TooManyRequests")] * 2),
    ("GET", [connection_reset()] * 2),
    ("GET", [requests.exceptions.SSLError("bad")]),
    ("GET", [response(200, raw=b"x")] * 2),
    ("POST", [read_timeout()]),
    ("POST", [connection_reset()]),
    ("POST", [graph_error(502, "BadGateway")]),
    ("POST", [graph_error(500, "InternalServerError")]),
    ("POST", [new_connection_error()] * 2),
]


@pytest.mark.parametrize("method, steps", FAILURES)
def test_no_error_text_holds_the_token(clock, method, steps):
    client, dummy = scripted(list(steps), max_retries=1)
    with pytest.raises(GraphError) as info:
        client.request(method, client.url(RESTART_PATH), body=RESTART_BODY if method == "POST" else None)
    exc = info.value
    for text in (str(exc), repr(exc), repr(exc.args), exc.code, exc.request_id):
        assert "SECRET-TOKEN" not in text
        assert "Bearer" not in text
    # The cause (whose request holds the Authorization header) is not shown with the error.
    assert exc.__suppress_context__ or exc.__context__ is None


# ---------------------------------------------------------------------------------------------------
# Paging


def page(items, next_link=None):
    body = {"value": items}
    if next_link:
        body["@odata.nextLink"] = next_link
    return response(200, body)


def test_iter_pages_follows_next_link_as_a_whole_url(clock):
    next_link = BASE + "/servicePrincipals?$select=id&$skiptoken=abc"
    client, script = scripted([page([{"id": 1}, {"id": 2}], next_link), page([{"id": 3}])])
    assert list(client.iter_pages("/servicePrincipals", {"$select": "id", "$top": "999"})) == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert script.calls[0]["url"] == BASE + "/servicePrincipals"
    assert script.calls[0]["params"] == {"$select": "id", "$top": "999"}
    assert script.calls[1]["url"] == next_link
    assert script.calls[1]["params"] is None


def test_iter_pages_with_no_items(clock):
    client, script = scripted([page([])])
    assert list(client.iter_pages(jobs_path(SP_ID))) == []
    assert len(script.calls) == 1


def test_iter_pages_refuses_a_next_link_on_another_host(clock):
    client, script = scripted([page([{"id": 1}], "https://evil.example/v1.0/servicePrincipals?$skiptoken=x")])
    pages = client.iter_pages("/servicePrincipals")
    assert next(pages) == {"id": 1}
    with pytest.raises(GraphError) as info:
        next(pages)
    assert "evil.example" in str(info.value)
    assert len(script.calls) == 1


def test_iter_pages_refuses_a_plain_http_next_link(clock):
    client, script = scripted([page([{"id": 1}], "http://graph.test/v1.0/servicePrincipals?$skiptoken=x"), page([{"id": 2}])])
    with pytest.raises(GraphError):
        list(client.iter_pages("/servicePrincipals"))
    assert len(script.calls) == 1


@pytest.mark.parametrize("body", [{}, {"value": None}, {"value": {"id": 1}}])
def test_iter_pages_needs_a_value_list(clock, body):
    client, dummy = scripted([response(200, body)])
    with pytest.raises(GraphError) as info:
        list(client.iter_pages("/servicePrincipals"))
    assert "'value'" in str(info.value)


@pytest.mark.parametrize("body", [[{"id": 1}], "text"])
def test_iter_pages_with_a_body_that_is_not_an_object(clock, body):
    client, dummy = scripted([response(200, body)])
    with pytest.raises(GraphError):
        list(client.iter_pages("/servicePrincipals"))


def test_iter_pages_retries_a_throttled_page(clock):
    next_link = BASE + "/servicePrincipals?$skiptoken=abc"
    steps = [page([{"id": 1}], next_link), graph_error(429, "TooManyRequests", headers={"Retry-After": "0.5"}), page([{"id": 2}])]
    client, script = scripted(steps)
    assert [item["id"] for item in client.iter_pages("/servicePrincipals")] == [1, 2]
    assert [call["url"] for call in script.calls] == [BASE + "/servicePrincipals", next_link, next_link]


# ---------------------------------------------------------------------------------------------------
# Paths and stats


@pytest.mark.parametrize(
    "value, quoted",
    [
        (JOB_ID, JOB_ID),
        ("dataBricks.0123456789abcdef0123456789abcdef.8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d", None),
        ("scim.abc_def-1", None),
        ("..", ".."),
        ("a/b", "a%2Fb"),
        ("../../me", "..%2F..%2Fme"),
        ("a?b#c", "a%3Fb%23c"),
        ("a b", "a%20b"),
        ("100%", "100%25"),
    ],
)
def test_quote_segment(value, quoted):
    assert quote_segment(value) == (value if quoted is None else quoted)
    assert "/" not in quote_segment(value)


def test_sync_api_paths_quote_each_segment():
    assert jobs_path(SP_ID) == "/servicePrincipals/%s/synchronization/jobs" % SP_ID
    assert job_path(SP_ID, JOB_ID) == JOB_PATH
    assert job_path(SP_ID, "x/../y") == "/servicePrincipals/%s/synchronization/jobs/x%%2F..%%2Fy" % SP_ID


def test_sync_api_over_the_client(clock):
    steps = [page([{"id": JOB_ID}]), response(200, {"id": JOB_ID}), response(204), page([{"id": SP_ID}])]
    client, script = scripted(steps)
    api = SyncApi(client)
    assert api.list_jobs(SP_ID) == [{"id": JOB_ID}]
    assert api.get_job(SP_ID, JOB_ID) == {"id": JOB_ID}
    assert api.restart(SP_ID, JOB_ID, RESTART_BODY) is None
    assert list(api.iter_service_principals("startswith(displayName,'a')")) == [{"id": SP_ID}]
    assert [(call["method"], call["url"]) for call in script.calls] == [
        ("GET", BASE + jobs_path(SP_ID)),
        ("GET", BASE + JOB_PATH),
        ("POST", BASE + RESTART_PATH),
        ("GET", BASE + "/servicePrincipals"),
    ]
    assert script.calls[2]["json"] == RESTART_BODY
    assert script.calls[3]["params"] == {"$select": "id,appId,displayName", "$top": "999", "$filter": "startswith(displayName,'a')"}


def test_stats_count_requests_retries_throttling_and_refreshes(clock):
    steps = [
        graph_error(429, "TooManyRequests", headers={"Retry-After": "0.5"}),
        graph_error(503, "ServiceUnavailable", headers={"Retry-After": "0.5"}),
        response(200, {}),
        graph_error(401, "InvalidAuthenticationToken"),
        response(204),
    ]
    client, dummy = scripted(steps)
    client.get(JOB_PATH)
    client.post(RESTART_PATH, RESTART_BODY)
    assert client.stats() == {"GET requests": 3, "POST requests": 2, "throttled": 1, "retries": 2, "token refreshes": 1}
    stats = client.stats()
    stats["GET requests"] = 99
    assert client.stats()["GET requests"] == 3


def test_backoff_delay_grows_and_is_capped():
    class Fixed:
        @staticmethod
        def uniform(low, high):
            return high

    assert [backoff_delay(attempt, Fixed) for attempt in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert 0.25 <= backoff_delay(0) <= 0.5


def test_error_messages_show_the_path_relative_to_v1(clock):
    client, dummy = scripted([graph_error(404, "Request_ResourceNotFound")])
    with pytest.raises(GraphError) as info:
        client.get(JOB_PATH)
    assert str(info.value).startswith("GET %s failed" % JOB_PATH)
    assert ROOT not in str(info.value)


# ---------------------------------------------------------------------------------------------------
# A real local HTTPS server: real TLS, real requests exceptions


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out leaves a broken pipe behind: expected here


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server = self.server
        with server.lock:
            server.seen.append((self.command, self.path, self.headers.get("Authorization"), body))
        if server.mode == "close":
            self.close_connection = True  # read the request, answer nothing
            return
        if server.mode == "hang":
            time.sleep(server.hang)
        payload = json.dumps({"value": [{"id": JOB_ID}]}).encode()
        self.send_response(200 if self.command == "GET" else 204)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload) if self.command == "GET" else 0))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(payload)

    do_GET = _answer
    do_POST = _answer


@pytest.fixture(scope="module")
def tls():
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return ca, context


@pytest.fixture
def server(tls, tmp_path, monkeypatch):
    ca, context = tls
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    # Make sure the environment points requests at a bundle without the test CA: only verify= can make this work.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.lock = threading.Lock()
    httpd.seen = []
    httpd.mode = "answer"
    httpd.hang = 0.0
    httpd.root = "https://127.0.0.1:%d" % httpd.server_address[1]
    httpd.ca_file = str(ca_file)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def live_client(httpd, **options):
    options.setdefault("ca_path", httpd.ca_file)
    options.setdefault("timeout", 5)
    return GraphClient(settings(graph_endpoint=httpd.root, **options), FakeCredential())


def test_live_https_with_the_test_ca(server):
    client = live_client(server)
    assert list(client.iter_pages(jobs_path(SP_ID))) == [{"id": JOB_ID}]
    client.post(RESTART_PATH, RESTART_BODY)
    client.close()
    assert [(method, path) for method, path, dummy, dummy2 in server.seen] == [
        ("GET", "/v1.0" + jobs_path(SP_ID)),
        ("POST", "/v1.0" + RESTART_PATH),
    ]
    assert server.seen[0][2] == "Bearer " + TOKEN
    assert json.loads(server.seen[1][3]) == RESTART_BODY


def test_live_https_without_the_test_ca_is_a_tls_error(server):
    client = live_client(server, ca_path=None)
    with pytest.raises(GraphError) as info:
        client.get(JOB_PATH)
    assert "TLS verification failed" in str(info.value)
    assert "ca_path" in str(info.value)


def test_live_post_answered_by_a_closed_connection_is_unknown_and_sent_once(server):
    server.mode = "close"
    client = live_client(server)
    with pytest.raises(GraphError) as info:
        client.post(RESTART_PATH, RESTART_BODY)
    assert info.value.outcome_unknown
    assert len(server.seen) == 1


def test_live_post_read_timeout_is_unknown_and_sent_once(server):
    server.mode = "hang"
    server.hang = 0.6
    client = live_client(server, timeout=0.2)
    with pytest.raises(GraphError) as info:
        client.post(RESTART_PATH, RESTART_BODY)
    assert info.value.outcome_unknown
    assert "ReadTimeout from the Graph host https://127.0.0.1:" in str(info.value)
    assert len(server.seen) == 1


def test_live_get_after_a_closed_connection_is_retried(server, clock):
    server.mode = "close"
    client = live_client(server, max_retries=2)
    with pytest.raises(GraphError) as info:
        client.get(JOB_PATH)
    assert not info.value.outcome_unknown
    assert len(server.seen) == 3
    assert len(clock.sleeps) == 2


def test_live_post_to_a_closed_port_is_retried_as_never_sent(clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GraphClient(settings(graph_endpoint="https://127.0.0.1:%d" % port, max_retries=2, timeout=2), FakeCredential())
    with pytest.raises(GraphError) as info:
        client.post(RESTART_PATH, RESTART_BODY)
    assert not info.value.outcome_unknown
    assert "after 3 attempts" in str(info.value)
    assert "the Graph host https://127.0.0.1:%d could not be reached (ConnectionError)" % port in str(info.value)
    assert "127.0.0.1:%d/" % port not in str(info.value)  # the host only: no URL path after it
    assert len(clock.sleeps) == 2

# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Workload identity from GitHub Actions: the request URL and token choose federated_token, a fresh assertion is
asked for at each call, and the request token never reaches a message. No network: requests.get is replaced."""

from __future__ import annotations

import json

import pytest
import requests

from ansible_collections.entra.sync.plugins.module_utils._auth.federated_token import FederatedTokenCredential
from ansible_collections.entra.sync.plugins.module_utils._auth.github_oidc import (
    GithubOidcAssertion,
    assertion_from_answer,
    assertion_request,
)
from ansible_collections.entra.sync.plugins.module_utils._auth.pick import credential_from_settings, pick_auth_method
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError
from ansible_collections.entra.sync.plugins.module_utils._settings.options import settings_from_options
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._auth.helpers import SECRET, FakeApp, app_settings, make_jwt, settings

REQUEST_URL = "https://github-oidc.invalid/_apis/idtoken?api-version=2.0"
REQUEST_TOKEN = "gh-request-token-5d1e7f0c9a"
AUDIENCE = "api://AzureADTokenExchange"


@pytest.fixture
def github_job(monkeypatch):
    """The two variables GitHub sets in a job with `permissions: id-token: write`."""
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", REQUEST_URL)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)


class TokenService:
    """Stands in for requests.get against GitHub's token service: a new JWT per call, each call recorded."""

    def __init__(self, status=200, body=None, error=None):
        self.status = status
        self.body = body
        self.error = error
        self.calls = []

    def get(self, url, **kwargs):
        self.calls.append(dict(kwargs, url=url))
        if self.error is not None:
            raise self.error
        body = self.body if self.body is not None else json.dumps({"count": 1, "value": make_jwt({"jti": len(self.calls)})})
        return type("Response", (), {"status_code": self.status, "text": body})()


@pytest.fixture
def token_service(monkeypatch):
    service = TokenService()
    monkeypatch.setattr(requests, "get", service.get)
    return service


# ---------------------------------------------------------------------------------------------------
# Choosing the method


@pytest.mark.parametrize(
    "options, expected",
    [
        ({}, ("federated_token", None)),
        ({"client_secret": SECRET}, ("client_secret", None)),
        ({"federated_token_file": "/var/run/token"}, ("federated_token", None)),
        ({"managed_identity": "system"}, ("managed_identity", None)),
        ({"access_token": "tok"}, ("access_token", "federated_token")),
        ({"auth_method": "federated_token"}, ("federated_token", None)),
    ],
)
def test_github_variables_choose_federated_token_only_without_another_credential(github_job, options, expected):
    assert pick_auth_method(app_settings(**options)) == expected


@pytest.mark.parametrize("present", ["ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"])
def test_one_github_variable_alone_is_no_credential(monkeypatch, present):
    monkeypatch.setenv(present, "value")
    with pytest.raises(AuthError) as info:
        pick_auth_method(app_settings())
    assert "No credential was given" in str(info.value)
    assert "id-token: write" in str(info.value)


def test_the_settings_hold_the_request_token_as_a_secret():
    current = settings_from_options({"tenant_id": "contoso.onmicrosoft.com"}.get,
                                    environ={"ACTIONS_ID_TOKEN_REQUEST_URL": " %s " % REQUEST_URL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN})
    assert current.github_oidc_request_url == REQUEST_URL
    assert REQUEST_TOKEN in current.secret_values()
    assert REQUEST_TOKEN not in repr(current)


def test_a_token_file_wins_over_the_github_variables(github_job, tmp_path):
    path = tmp_path / "token"
    path.write_text("assertion-from-file")
    credential = credential_from_settings(app_settings(federated_token_file=str(path)))
    assert credential._client_credential()["client_assertion"]() == "assertion-from-file"


# ---------------------------------------------------------------------------------------------------
# Local checks, before any request


def test_federated_token_without_a_file_or_github_says_both_ways():
    with pytest.raises(AuthError) as info:
        credential_from_settings(app_settings(auth_method="federated_token"))
    text = str(info.value)
    assert "federated_token_file" in text and "AZURE_FEDERATED_TOKEN_FILE" in text
    assert "id-token: write" in text and "ACTIONS_ID_TOKEN_REQUEST_URL" in text


def test_github_needs_tenant_and_client(github_job):
    with pytest.raises(AuthError) as info:
        credential_from_settings(settings())
    assert "tenant_id" in str(info.value) and "client_id" in str(info.value)


@pytest.mark.parametrize("url", ["http://github-oidc.invalid/idtoken?api-version=2.0", "not a url", "file:///etc/passwd"])
def test_a_request_url_that_is_not_https_is_refused(monkeypatch, url):
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", url)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
    with pytest.raises(AuthError) as info:
        credential_from_settings(app_settings())
    assert "ACTIONS_ID_TOKEN_REQUEST_URL is not an https URL" in str(info.value)
    assert REQUEST_TOKEN not in str(info.value)


# ---------------------------------------------------------------------------------------------------
# The request and the answer (pure)


def test_the_request_asks_for_entras_audience_with_the_request_token():
    params, headers = assertion_request(REQUEST_TOKEN)
    assert params == {"audience": AUDIENCE}
    assert headers["Authorization"] == "bearer " + REQUEST_TOKEN


def test_the_answer_gives_its_jwt():
    token = make_jwt({"sub": "repo:owner/repo:ref:refs/heads/main"})
    assert assertion_from_answer(200, json.dumps({"count": 1, "value": token})) == token


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_request_names_the_request_token_variable(status):
    with pytest.raises(AuthError) as info:
        assertion_from_answer(status, '{"message": "Bad credentials %s"}' % REQUEST_TOKEN)
    text = str(info.value)
    assert "HTTP %d" % status in text and "ACTIONS_ID_TOKEN_REQUEST_TOKEN" in text
    assert REQUEST_TOKEN not in text


@pytest.mark.parametrize("status, body", [(500, "{}"), (200, "not json"), (200, "[]"), (200, '{"value": 7}'), (200, '{"value": "opaque"}'), (200, "{}")])
def test_an_answer_without_a_token_says_so(status, body):
    with pytest.raises(AuthError) as info:
        assertion_from_answer(status, body)
    assert "GitHub Actions OIDC token service" in str(info.value)


# ---------------------------------------------------------------------------------------------------
# Asking at each sign-in


def test_each_call_asks_github_for_a_fresh_assertion(github_job, token_service):
    credential = credential_from_settings(app_settings())
    assert isinstance(credential, FederatedTokenCredential)
    assert token_service.calls == [], "validate() sent a request"
    fetch = credential._client_credential()["client_assertion"]
    assert isinstance(fetch, GithubOidcAssertion)
    first, second = fetch(), fetch()
    assert first != second
    call = token_service.calls[0]
    assert call["url"] == REQUEST_URL
    assert call["params"] == {"audience": AUDIENCE}
    assert call["headers"]["Authorization"] == "bearer " + REQUEST_TOKEN
    assert call["verify"] is True and call["timeout"] == 30.0


def test_an_assertion_or_the_request_token_echoed_by_the_idp_is_scrubbed(github_job, token_service, monkeypatch):
    credential = credential_from_settings(app_settings())
    assertion = credential._client_credential()["client_assertion"]()
    echoed = {"error": "invalid_client", "error_description": "AADSTS70021: no match for %s (%s)" % (assertion, REQUEST_TOKEN)}
    monkeypatch.setattr(credential, "_app", lambda: FakeApp(echoed))
    with pytest.raises(AuthError) as info:
        credential.get_token()
    text = str(info.value)
    assert assertion not in text and REQUEST_TOKEN not in text and "********" in text
    assert "issuer, subject and audience" in text


@pytest.mark.parametrize("error, words", [(requests.exceptions.SSLError("bad cert"), "ca_path"),
                                          (requests.exceptions.ConnectionError("refused " + REQUEST_TOKEN), "Could not reach")])
def test_a_transport_failure_names_the_service_not_the_token(github_job, monkeypatch, error, words):
    monkeypatch.setattr(requests, "get", TokenService(error=error).get)
    fetch = credential_from_settings(app_settings())._client_credential()["client_assertion"]
    with pytest.raises(AuthError) as info:
        fetch()
    text = str(info.value)
    assert words in text and "ACTIONS_ID_TOKEN_REQUEST_URL" in text
    assert REQUEST_TOKEN not in text and "github-oidc.invalid" not in text

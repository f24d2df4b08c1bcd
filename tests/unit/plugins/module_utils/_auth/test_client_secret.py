# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""MSAL results for an app signing in, with a stand-in for the ConfidentialClientApplication."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._auth.helpers import (
    NOW,
    SECRET,
    FakeApp,
    secret_credential,
)

# ---------------------------------------------------------------------------------------------------
# MSAL results, with a stand-in for the ConfidentialClientApplication


def test_msal_success(monkeypatch, clock):
    app = FakeApp({"access_token": "msal-token", "expires_in": 1800, "token_source": "cache"})
    token = secret_credential(monkeypatch, app).get_token()
    assert token.token == "msal-token"
    assert token.expires_on == NOW + 1800
    assert token.source == "cache"
    assert app.calls == [("https://graph.microsoft.com/.default",)]


def test_msal_force_refresh_empties_the_cache_first(monkeypatch, clock):
    app = FakeApp({"access_token": "msal-token", "expires_in": 1800})
    secret_credential(monkeypatch, app).get_token(force_refresh=True)
    assert app.calls[0] == "remove"


def test_msal_error_result_is_scrubbed_and_explained(monkeypatch):
    app = FakeApp({
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided: '%s'.\r\nTrace ID: abc\r\nCorrelation ID: def" % SECRET,
    })
    with pytest.raises(AuthError) as info:
        secret_credential(monkeypatch, app).get_token()
    text = str(info.value)
    assert SECRET not in text
    assert "********" in text
    assert "invalid_client" in text
    assert "client secret is wrong" in text
    assert "Trace ID" not in text


def test_msal_value_error_is_scrubbed(monkeypatch):
    app = FakeApp(error=ValueError("discovery failed for %s" % SECRET))
    with pytest.raises(AuthError) as info:
        secret_credential(monkeypatch, app).get_token()
    assert SECRET not in str(info.value)
    assert "discovery failed" in str(info.value)


class SSLError(Exception):
    """Named like requests' SSLError, which is what the translation looks at."""


def test_msal_tls_failure_points_at_ca_path(monkeypatch):
    with pytest.raises(AuthError) as info:
        secret_credential(monkeypatch, FakeApp(error=SSLError("certificate verify failed"))).get_token()
    text = str(info.value)
    assert "ca_path" in text
    assert "https://login.microsoftonline.com" in text


def test_msal_transport_failure_names_the_host(monkeypatch):
    with pytest.raises(AuthError) as info:
        secret_credential(monkeypatch, FakeApp(error=ConnectionError("refused %s" % SECRET))).get_token()
    text = str(info.value)
    assert "Could not reach the sign-in host https://login.microsoftonline.com" in text
    assert SECRET not in text

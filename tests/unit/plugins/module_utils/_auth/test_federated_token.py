# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Workload identity federation from a token file."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.module_utils._auth.federated_token import FederatedTokenCredential
from ansible_collections.entra.sync.plugins.module_utils._auth.pick import credential_from_settings
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._auth.helpers import (
    FakeApp,
    app_settings,
)

# ---------------------------------------------------------------------------------------------------
# Federated token


def test_federated_token_is_read_at_each_sign_in(tmp_path):
    path = tmp_path / "token"
    path.write_text("assertion-1\n")
    credential = credential_from_settings(app_settings(federated_token_file=str(path)))
    assert isinstance(credential, FederatedTokenCredential)
    read = credential._client_credential()["client_assertion"]
    assert read() == "assertion-1"
    path.write_text("assertion-2")
    assert read() == "assertion-2"


@pytest.mark.parametrize("content, words", [(None, "cannot be read"), ("", "empty"), ("  \n", "empty")])
def test_federated_token_file_problems(tmp_path, content, words):
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    with pytest.raises(AuthError) as info:
        credential_from_settings(app_settings(federated_token_file=str(path)))
    assert words in str(info.value)
    assert str(path) in str(info.value)


def test_federated_assertion_never_reaches_an_error(monkeypatch, tmp_path):
    """An IdP that echoes the assertion (or an exception that holds it) must not put it in the task's message."""
    path = tmp_path / "token"
    path.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl\n")
    credential = credential_from_settings(app_settings(federated_token_file=str(path)))
    echoed = {"error": "invalid_client", "error_description": "AADSTS700024: assertion eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl expired"}
    monkeypatch.setattr(credential, "_app", lambda: FakeApp(echoed))
    with pytest.raises(AuthError) as info:
        credential.get_token()
    assert "eyJ" not in str(info.value) and "********" in str(info.value)
    assert "AZURE_FEDERATED_TOKEN_FILE" in str(info.value)
    monkeypatch.setattr(credential, "_app", lambda: FakeApp(error=ValueError("bad eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")))
    with pytest.raises(AuthError) as info:
        credential.get_token(force_refresh=True)
    assert "eyJ" not in str(info.value)

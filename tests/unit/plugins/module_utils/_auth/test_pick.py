# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Picking the sign-in method and building its credential: validate() only, no network."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.module_utils._auth.access_token import RefreshableAccessToken
from ansible_collections.entra.sync.plugins.module_utils._auth.client_secret import ClientSecretCredential
from ansible_collections.entra.sync.plugins.module_utils._auth.managed_identity import ManagedIdentityCredential
from ansible_collections.entra.sync.plugins.module_utils._auth.pick import credential_from_settings, pick_auth_method
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._auth.helpers import (
    CLIENT,
    ENV_NAMES,
    PASSWORD,
    SECRET,
    TENANT,
    app_settings,
    make_jwt,
    settings,
)

# ---------------------------------------------------------------------------------------------------
# pick_auth_method


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"client_secret": SECRET}, ("client_secret", None)),
        ({"client_certificate_path": "/x.pem"}, ("certificate", None)),
        ({"client_certificate_path": "/x.pfx", "client_certificate_password": PASSWORD}, ("certificate", None)),
        ({"federated_token_file": "/var/run/token"}, ("federated_token", None)),
        ({"managed_identity": "system"}, ("managed_identity", None)),
        ({"access_token": "tok"}, ("access_token", None)),
        ({"access_token": "tok", "client_secret": SECRET}, ("access_token", "client_secret")),
        ({"access_token": "tok", "client_certificate_path": "/x.pem"}, ("access_token", "certificate")),
        ({"access_token": "tok", "managed_identity": "system"}, ("access_token", "managed_identity")),
        ({"auth_method": "certificate", "client_secret": SECRET, "client_certificate_path": "/x.pem"}, ("certificate", None)),
        ({"auth_method": "client_secret"}, ("client_secret", None)),
        ({"auth_method": "access_token", "access_token": "tok", "client_secret": SECRET}, ("access_token", None)),
        # A named method with a token in hand (the graph_auth role's): the token first, the method refreshes it.
        ({"auth_method": "certificate", "access_token": "tok", "client_certificate_path": "/x.pem", "client_secret": SECRET},
         ("access_token", "certificate")),
        ({"auth_method": "client_secret", "access_token": "tok"}, ("access_token", "client_secret")),
    ],
)
def test_pick_auth_method(options, expected):
    assert pick_auth_method(app_settings(**options)) == expected


@pytest.mark.parametrize(
    "options",
    [
        {"client_secret": SECRET, "client_certificate_path": "/x.pem"},
        {"client_secret": SECRET, "federated_token_file": "/t"},
        {"client_certificate_path": "/x.pem", "managed_identity": "system"},
        {"client_secret": SECRET, "client_certificate_path": "/x.pem", "federated_token_file": "/t", "access_token": "tok"},
    ],
)
def test_conflicting_credentials_name_the_options(options):
    with pytest.raises(AuthError) as info:
        pick_auth_method(app_settings(**options))
    text = str(info.value)
    assert text.startswith("Conflicting credentials")
    assert "auth_method" in text
    for option in ("client_secret", "client_certificate_path", "federated_token_file", "managed_identity"):
        assert (option in text) == (option in options), option
    assert SECRET not in text


@pytest.mark.parametrize("options", [{}, {"client_certificate_password": PASSWORD}, {"client_secret": ""}])
def test_no_credential_names_the_env_vars(options):
    with pytest.raises(AuthError) as info:
        pick_auth_method(app_settings(**options))
    text = str(info.value)
    for env in ENV_NAMES:
        assert env in text
    assert "managed_identity" in text
    assert PASSWORD not in text


def test_explicit_access_token_without_a_token():
    with pytest.raises(AuthError) as info:
        pick_auth_method(app_settings(auth_method="access_token", client_secret=SECRET))
    assert "ENTRA_SYNC_ACCESS_TOKEN" in str(info.value)


# ---------------------------------------------------------------------------------------------------
# credential_from_settings: validate() only, no network


def test_secret_credential_needs_tenant_and_client():
    with pytest.raises(AuthError) as info:
        credential_from_settings(settings(client_secret=SECRET))
    text = str(info.value)
    assert "tenant_id (env AZURE_TENANT_ID or AZURE_TENANT)" in text
    assert "client_id (env AZURE_CLIENT_ID)" in text
    assert SECRET not in text


def test_secret_credential_is_built_without_signing_in():
    credential = credential_from_settings(app_settings(client_secret=SECRET))
    assert isinstance(credential, ClientSecretCredential)
    assert credential.method == "client_secret"
    assert CLIENT in credential.describe() and TENANT in credential.describe()
    assert SECRET not in credential.describe()


def test_explicit_method_without_its_credential_is_refused():
    with pytest.raises(AuthError) as info:
        credential_from_settings(app_settings(auth_method="client_secret"))
    assert "client_secret" in str(info.value)


def test_explicit_method_without_its_credential_names_the_env_var():
    with pytest.raises(AuthError) as info:
        credential_from_settings(app_settings(auth_method="client_secret"))
    assert "AZURE_CLIENT_SECRET" in str(info.value)


def test_explicit_managed_identity_without_a_value():
    with pytest.raises(AuthError) as info:
        credential_from_settings(settings(auth_method="managed_identity"))
    assert "managed_identity" in str(info.value)
    assert "system" in str(info.value)


@pytest.mark.parametrize("identity, expected", [("system", "system-assigned"), ("SYSTEM", "system-assigned"), (CLIENT, CLIENT)])
def test_managed_identity_describe(identity, expected):
    credential = credential_from_settings(settings(managed_identity=identity))
    assert isinstance(credential, ManagedIdentityCredential)
    assert expected in credential.describe()


def test_access_token_with_a_credential_is_refreshable():
    credential = credential_from_settings(app_settings(access_token=make_jwt({"exp": 4_000_000_000}), client_secret=SECRET))
    assert isinstance(credential, RefreshableAccessToken)
    assert credential.method == "access_token"
    assert "client secret" in credential.describe()


def test_access_token_with_a_credential_still_validates_the_credential():
    with pytest.raises(AuthError) as info:
        credential_from_settings(settings(access_token="tok", client_secret=SECRET))
    assert "tenant_id" in str(info.value)

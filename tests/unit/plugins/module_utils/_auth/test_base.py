# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every method shares: sign-in error hints and jwt_claims."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.entra.sync.plugins.module_utils._auth.base import describe_sign_in_error, jwt_claims
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._auth.helpers import (
    b64url,
    make_jwt,
)

# ---------------------------------------------------------------------------------------------------
# describe_sign_in_error


@pytest.mark.parametrize(
    "code, words",
    [
        ("AADSTS7000215", "client secret is wrong"),
        ("AADSTS7000222", "expired"),
        ("AADSTS700016", "client_id"),
        ("AADSTS90002", "tenant_id"),
        ("AADSTS700027", "certificate"),
        ("AADSTS700024", "federated token"),
        ("AADSTS500011", "cloud"),
        ("AADSTS7000218", "AZURE_CLIENT_SECRET"),
        ("AADSTS700024", "AZURE_FEDERATED_TOKEN_FILE"),
        ("AADSTS70021", "issuer, subject and audience"),
        ("AADSTS700211", "issuer"),
        ("AADSTS700212", "api://AzureADTokenExchange"),
        ("AADSTS700213", "subject"),
        ("AADSTS5002738", "signature"),
    ],
)
def test_sign_in_hints(code, words):
    text = describe_sign_in_error({"error": "invalid_client", "error_description": "%s: something.\r\nTrace ID: 1" % code}, "app X")
    assert text.startswith("Sign-in as app X failed: invalid_client: %s: something." % code)
    assert words in text
    assert "Trace ID" not in text


def test_sign_in_error_without_a_known_code_has_no_hint():
    text = describe_sign_in_error({"error": "invalid_request", "error_description": "AADSTS50000: other"}, "app X")
    assert text == "Sign-in as app X failed: invalid_request: AADSTS50000: other"


@pytest.mark.parametrize("result", [{}, {"error": None, "error_description": None}, {"error_description": "   "}])
def test_sign_in_error_without_details(result):
    assert describe_sign_in_error(result, "app X") == "Sign-in as app X failed: unknown_error"


# ---------------------------------------------------------------------------------------------------
# jwt_claims


def test_jwt_claims_of_a_token():
    assert jwt_claims(make_jwt({"exp": 1, "scp": "Synchronization.ReadWrite.All"})) == {"exp": 1, "scp": "Synchronization.ReadWrite.All"}


@pytest.mark.parametrize(
    "token",
    [
        "",
        "opaque",
        "a.b.c",
        "a.!!!.c",
        "a.%s.c" % b64url(b"[1, 2]"),
        "a.%s.c" % b64url(b'"text"'),
        "a.%s.c" % b64url(b"\xff\xfe\xfd"),
        "a.%s.c" % b64url(b"{not json"),
        "a.\u00e9\u00e9.c",
        "a.x",
    ],
)
def test_jwt_claims_of_junk_is_empty(token):
    assert jwt_claims(token) == {}


@given(st.text(max_size=60))
def test_jwt_claims_never_raises_on_text(token):
    assert isinstance(jwt_claims(token), dict)

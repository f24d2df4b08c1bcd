# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A given access_token: used as is, never refreshed alone, refreshed by a credential beside it; token lifetime."""

from __future__ import annotations

import contextlib

import pytest

from ansible_collections.entra.sync.plugins.module_utils._auth.access_token import AccessTokenCredential, RefreshableAccessToken
from ansible_collections.entra.sync.plugins.module_utils._auth.base import AccessToken
from ansible_collections.entra.sync.plugins.module_utils._auth.pick import credential_from_settings
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._auth.helpers import (
    NOW,
    SECRET,
    CountingCredential,
    app_settings,
    make_jwt,
    settings,
)

# ---------------------------------------------------------------------------------------------------
# AccessTokenCredential


def test_given_jwt_is_used_as_is(clock):
    token = make_jwt({"exp": NOW + 3600, "roles": ["Synchronization.ReadWrite.All"]})
    credential = credential_from_settings(settings(access_token=token))
    assert isinstance(credential, AccessTokenCredential)
    got = credential.get_token()
    assert got.token == token
    assert got.expires_on == NOW + 3600
    assert got.source == "given"
    assert "access_token" in credential.describe()
    assert token not in repr(got)


def test_expired_jwt_fails_with_the_refresh_advice(clock):
    token = make_jwt({"exp": NOW - 60})
    with pytest.raises(AuthError) as info:
        credential_from_settings(settings(access_token=token))
    text = str(info.value)
    assert "expired" in text
    assert "entra.sync.graph_auth" in text
    assert "client_secret" in text
    assert token not in text


def test_given_token_expiring_during_the_run(clock):
    credential = credential_from_settings(settings(access_token=make_jwt({"exp": NOW + 60})))
    assert credential.get_token().expires_on == NOW + 60
    clock.now += 61
    with pytest.raises(AuthError) as info:
        credential.get_token()
    assert "graph_auth" in str(info.value)


def test_given_token_cannot_be_refreshed(clock):
    credential = credential_from_settings(settings(access_token=make_jwt({"exp": NOW + 3600})))
    with pytest.raises(AuthError) as info:
        credential.get_token(force_refresh=True)
    assert "cannot be refreshed" in str(info.value)


def test_opaque_token_has_no_expiry(clock):
    credential = credential_from_settings(settings(access_token="opaque-token-value"))
    got = credential.get_token()
    assert got.token == "opaque-token-value"
    assert got.expires_on == 0
    assert not got.needs_refresh()


@pytest.mark.parametrize("token", ["two words", "tab\there", "line\nbreak"])
def test_token_with_whitespace_is_refused(token):
    with pytest.raises(AuthError) as info:
        credential_from_settings(settings(access_token=token))
    assert "whitespace" in str(info.value)
    assert token not in str(info.value)


def test_token_with_a_non_numeric_exp_is_not_a_crash(clock):
    credential = AccessTokenCredential(settings(access_token=make_jwt({"exp": "soon"})))
    with contextlib.suppress(AuthError):
        credential.validate()


# ---------------------------------------------------------------------------------------------------
# Token lifetime and refresh


def test_access_token_needs_refresh_once_expired():
    token = AccessToken("t", NOW + 100, "test")
    assert not token.needs_refresh(now=NOW)
    assert token.needs_refresh(now=NOW + 101)
    assert not AccessToken("t", 0, "test").needs_refresh(now=NOW)


def test_credential_caches_until_expiry_and_force_refresh_reacquires(clock):
    credential = CountingCredential(app_settings(client_secret=SECRET), clock)
    assert credential.get_token().token == "fresh-1"
    assert credential.get_token().token == "fresh-1"
    assert credential.get_token(force_refresh=True).token == "fresh-2"
    clock.now += 3601
    assert credential.get_token().token == "fresh-3"
    assert credential.acquired == [False, True, False]


def test_credential_refreshes_shortly_before_expiry(clock):
    credential = CountingCredential(app_settings(client_secret=SECRET), clock)
    credential.get_token()
    clock.now += 3590  # 10 s left of a one-hour token: well inside the five-minute margin
    assert credential.get_token().token == "fresh-2"


def refreshable(clock, exp):
    current = app_settings(access_token=make_jwt({"exp": exp}), client_secret=SECRET)
    fallback = CountingCredential(current, clock)
    credential = RefreshableAccessToken(current, AccessTokenCredential(current), fallback)
    credential.validate()
    return credential, fallback


def test_refreshable_uses_the_given_token_first(clock):
    credential, fallback = refreshable(clock, NOW + 3600)
    assert credential.get_token().source == "given"
    assert fallback.acquired == []


def test_refreshable_falls_back_when_the_given_token_is_already_expired(clock):
    credential, fallback = refreshable(clock, NOW - 1)
    assert credential.get_token().token == "fresh-1"
    assert fallback.acquired == [False]


def test_refreshable_falls_back_when_the_given_token_is_rejected(clock):
    credential, fallback = refreshable(clock, NOW + 3600)
    assert credential.get_token(force_refresh=True).token == "fresh-1"
    # The rejected token is dropped for good.
    assert credential.get_token().token == "fresh-1"
    assert fallback.acquired == [True]


def test_refreshable_falls_back_when_the_given_token_expires_during_the_run(clock):
    credential, fallback = refreshable(clock, NOW + 60)
    assert credential.get_token().source == "given"
    clock.now += 120
    assert credential.get_token().token == "fresh-1"
    assert fallback.acquired == [False]

# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Delegated sign-in: picking device_code / azure_cli, the token cache checks, the device flow's and az's messages."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time

import pytest

from ansible_collections.entra.sync.plugins.module_utils._auth import azure_cli
from ansible_collections.entra.sync.plugins.module_utils._auth.azure_cli import account_problem, az_failure, read_token
from ansible_collections.entra.sync.plugins.module_utils._auth.device_code import (
    DEFAULT_PUBLIC_CLIENT_ID,
    DeviceCodeCredential,
    cached_scopes,
    delegated_scopes,
    describe_device_code_error,
    device_flow_failure,
    pick_account,
    silent_failure_message,
    token_task_problem,
)
from ansible_collections.entra.sync.plugins.module_utils._auth.pick import credential_from_settings, pick_auth_method
from ansible_collections.entra.sync.plugins.module_utils._auth.token_cache import (
    TokenCacheFile,
    default_cache_path,
    is_cache_text,
    location_problem,
)
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, LocalFileError, OptionError
from ansible_collections.entra.sync.plugins.module_utils._graph.messages import describe_error, permission_hint
from ansible_collections.entra.sync.plugins.module_utils._settings.clouds import resolve_cloud
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._auth.helpers import SECRET, TENANT, make_jwt, settings

RESTART_PATH = "/servicePrincipals/00000000-0000-4000-8000-000000000001/synchronization/jobs/scim.1/restart"
JOB_PATH = RESTART_PATH[: -len("/restart")]

# ---------------------------------------------------------------------------------------------------
# picking the method


@pytest.mark.parametrize("method", ["device_code", "azure_cli"])
def test_delegated_methods_are_picked_only_when_asked(method):
    assert pick_auth_method(settings(auth_method=method, tenant_id=TENANT)) == (method, None)
    token = make_jwt({"scp": "Synchronization.ReadWrite.All", "exp": 4_000_000_000})
    # A token the role got this way is used first; the method refreshes it.
    assert pick_auth_method(settings(auth_method=method, tenant_id=TENANT, access_token=token)) == ("access_token", method)


@pytest.mark.parametrize("method", ["device_code", "azure_cli"])
@pytest.mark.parametrize("option, value", [("client_secret", SECRET), ("client_certificate_path", "/x.pem"), ("managed_identity", "system")])
def test_delegated_methods_refuse_an_application_credential(method, option, value):
    with pytest.raises(AuthError) as info:
        pick_auth_method(settings(auth_method=method, tenant_id=TENANT, **{option: value}))
    text = str(info.value)
    assert "signs in as a person" in text and option in text and SECRET not in text


def test_device_code_needs_a_tenant_and_defaults_to_graph_command_line_tools(tmp_path):
    with pytest.raises(AuthError, match="needs tenant_id"):
        credential_from_settings(settings(auth_method="device_code", token_cache_path=str(tmp_path / "c.json")))
    credential = credential_from_settings(settings(auth_method="device_code", tenant_id=TENANT, token_cache_path=str(tmp_path / "c.json")))
    assert isinstance(credential, DeviceCodeCredential) and credential.client_id == DEFAULT_PUBLIC_CLIENT_ID
    assert DEFAULT_PUBLIC_CLIENT_ID in credential.describe()


# ---------------------------------------------------------------------------------------------------
# the token cache file


def test_default_cache_path_follows_xdg():
    assert default_cache_path({"XDG_CACHE_HOME": "/x"}) == "/x/entra-sync/msal_token_cache.json"
    assert default_cache_path({}, home="/home/a") == "/home/a/.cache/entra-sync/msal_token_cache.json"


@pytest.mark.parametrize(
    "is_default, exists, is_dir, expected",
    [
        (False, True, False, None),
        (True, False, False, None),  # the default's directory is created on first save
        (False, False, False, "does not exist"),
        (False, True, True, "is a directory"),
    ],
)
def test_location_problem(is_default, exists, is_dir, expected):
    problem = location_problem("/d/cache.json", is_default, exists, is_dir)
    assert (problem is None) if expected is None else (expected in problem and "/d" in problem)


@pytest.mark.parametrize("text, ok", [("", True), ("{}", True), ('{"AccessToken": {}}', True), ("[]", False), ("{not json", False)])
def test_is_cache_text(text, ok):
    assert is_cache_text(text) is ok


class FakeCache:
    """The part of msal.SerializableTokenCache the file uses."""

    def __init__(self, state=None):
        self.state = state
        self.has_state_changed = state is not None

    def deserialize(self, text):
        self.state = json.loads(text)

    def serialize(self):
        return json.dumps(self.state)


def test_cache_file_checks_loads_and_saves_owner_only(tmp_path):
    path = tmp_path / "cache.json"
    cache_file = TokenCacheFile(str(path), is_default=False)
    cache_file.check()
    cache_file.save(FakeCache({"RefreshToken": {"k": {}}}))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert cache_file.load(FakeCache()).state == {"RefreshToken": {"k": {}}}
    os.chmod(path, 0o644)
    with pytest.raises(LocalFileError, match=r"mode 0644\): it can be read or changed by others, and it holds refresh tokens"):
        cache_file.check()
    with pytest.raises(LocalFileError, match="chmod 600"):
        cache_file.load(FakeCache())


def test_a_cache_in_a_folder_others_can_write_in_or_through_a_link_is_refused(tmp_path):
    """Another user could swap the file in a folder they can write in, or point a link at a cache of their own."""
    loose = tmp_path / "shared"
    loose.mkdir()
    os.chmod(loose, 0o777)
    with pytest.raises(LocalFileError, match="Refusing the token cache's directory .* other users can write in it"):
        TokenCacheFile(str(loose / "c.json"), is_default=False).check()
    with pytest.raises(LocalFileError, match="other users can write in it"):
        TokenCacheFile(str(loose / "c.json"), is_default=False).save(FakeCache({}))
    theirs = tmp_path / "theirs.json"
    theirs.write_text('{"RefreshToken": {"planted": {}}}')
    os.chmod(theirs, 0o600)
    (tmp_path / "c.json").symlink_to(theirs)
    cache_file = TokenCacheFile(str(tmp_path / "c.json"), is_default=False)
    with pytest.raises(LocalFileError, match="it is a symbolic link"):
        cache_file.check()
    with pytest.raises(LocalFileError, match="it is a symbolic link"):
        cache_file.load(FakeCache())
    assert list(loose.iterdir()) == [] and "planted" in theirs.read_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user (nobody) needs root; CI runs the tests as root")
def test_a_cache_folder_another_user_made_is_refused(tmp_path):
    folder = tmp_path / "entra-sync"
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    cache_file = TokenCacheFile(str(folder / "msal_token_cache.json"), is_default=True)
    with pytest.raises(LocalFileError, match=r"\(owner nobody \(uid 65534\), mode 0700\): it belongs to another user"):
        cache_file.check()
    with pytest.raises(LocalFileError, match="token_cache_path"):
        cache_file.save(FakeCache({}))
    assert list(folder.iterdir()) == []


def test_corrupt_cache_is_reset_with_a_warning(tmp_path):
    path = tmp_path / "cache.json"
    path.write_text("{garbage")
    os.chmod(path, 0o600)
    cache_file = TokenCacheFile(str(path), is_default=False)
    assert cache_file.load(FakeCache()).state is None
    assert "was reset" in cache_file.warnings[0]


def test_missing_directory_is_refused_unless_default(tmp_path):
    with pytest.raises(OptionError, match="does not exist"):
        TokenCacheFile(str(tmp_path / "nope" / "c.json"), is_default=False).check()
    default = TokenCacheFile(str(tmp_path / "made" / "c.json"), is_default=True)
    default.check()
    default.save(FakeCache({}))
    assert stat.S_IMODE(os.stat(tmp_path / "made").st_mode) == 0o700


# ---------------------------------------------------------------------------------------------------
# device code decisions


def test_delegated_scopes_sit_on_the_clouds_graph_resource():
    assert delegated_scopes(resolve_cloud("global")) == ["https://graph.microsoft.com/Synchronization.ReadWrite.All"]
    assert delegated_scopes(resolve_cloud("usgov"), ["Synchronization.Read.All", "offline_access"]) == [
        "https://graph.microsoft.us/Synchronization.Read.All"
    ]


def test_pick_account_takes_this_tenants_account():
    accounts = [{"realm": TENANT, "home_account_id": "a"}, {"realm": "other", "home_account_id": "b"}]
    assert pick_account(accounts, TENANT.upper())["home_account_id"] == "a"
    assert pick_account(accounts, "00000000-0000-4000-8000-00000000ffff") is None
    assert pick_account(accounts[:1], "contoso.onmicrosoft.com")["home_account_id"] == "a"
    assert pick_account(accounts, "contoso.onmicrosoft.com") is None


def test_cached_scopes_are_the_newest_of_the_account():
    entries = [
        {"home_account_id": "a", "target": "https://g/Synchronization.Read.All", "cached_at": "10"},
        {"home_account_id": "a", "target": "https://g/Synchronization.ReadWrite.All openid", "cached_at": "20"},
        {"home_account_id": "b", "target": "https://g/Other", "cached_at": "30"},
    ]
    assert cached_scopes(entries, {"home_account_id": "a"}) == ["https://g/Synchronization.ReadWrite.All"]
    assert cached_scopes(entries, {"home_account_id": "c"}) is None


@pytest.mark.parametrize("error, expected", [("authorization_declined", "declined"), ("expired_token", "expired"),
                                             ("authorization_pending", "expired"), ("invalid_client", None)])
def test_device_flow_failure(error, expected):
    text = device_flow_failure({"error": error})
    assert (text is None) if expected is None else expected in text


def test_silent_failure_says_what_to_run():
    text = silent_failure_message("/c.json", {"error": "invalid_grant", "error_description": "AADSTS50173: revoked"}, TENANT)
    assert "entra.sync.graph_auth" in text and "/c.json" in text and "AADSTS50173" in text


# ---------------------------------------------------------------------------------------------------
# azure_cli decisions

ACCOUNT = {"tenantId": TENANT, "homeTenantId": TENANT, "cloudName": "AzureCloud", "user": {"name": "a@contoso.example", "type": "user"}}


def test_account_problem():
    cloud = resolve_cloud("global")
    assert "not signed in. Run `az login --tenant %s`" % TENANT in account_problem([], TENANT, cloud)
    assert account_problem([ACCOUNT], TENANT, cloud) is None
    assert account_problem([ACCOUNT], None, cloud) is None
    other = "00000000-0000-4000-8000-00000000ffff"
    assert "not signed in to tenant %s (it is signed in to %s)" % (other, TENANT) in account_problem([ACCOUNT], other, cloud)
    assert "az cloud set --name AzureUSGovernment" in account_problem([ACCOUNT], TENANT, resolve_cloud("usgov"))
    assert account_problem([dict(ACCOUNT, cloudName="SandboxCloud")], TENANT, resolve_cloud("usgov")) is None  # custom cloud


def test_read_token_prefers_the_epoch_expiry():
    assert read_token(json.dumps({"accessToken": "t", "expires_on": 1764500000, "expiresOn": "2000-01-01 00:00:00.000000"})) == ("t", 1764500000.0)
    token, expires_on = read_token(json.dumps({"accessToken": "t", "expiresOn": "2026-11-30 10:00:00.000000"}))
    assert token == "t" and expires_on > 1_700_000_000
    with pytest.raises(AuthError, match="did not answer with a token"):
        read_token("ERROR: nope")


def test_az_failure_messages():
    assert "Run `az login`" in az_failure("ERROR: Please run 'az login' to setup account.\n", 1, None)
    text = az_failure("ERROR: AADSTS500011: The resource principal named x was not found.\n", 1, TENANT)
    assert "AADSTS500011" in text and "cloud matches" in text


# ---------------------------------------------------------------------------------------------------
# delegated permission messages


def test_missing_scope_is_named():
    hint = permission_hint(401, "POST", RESTART_PATH, frozenset({"Synchronization.Read.All"}))
    assert "lacks the delegated scope Synchronization.ReadWrite.All (it has Synchronization.Read.All)" in hint
    assert "Administrator" not in hint


def test_scope_present_names_the_roles_and_ownership():
    text = describe_error(403, "Authorization_RequestDenied", "Insufficient privileges", "POST", RESTART_PATH,
                          delegated=frozenset({"Synchronization.ReadWrite.All"}))
    assert "Application Administrator" in text and "Cloud Application Administrator" in text
    assert "Hybrid Identity Administrator" in text and "own the service principal" in text
    assert "grant it to the app" not in text


def test_read_scope_covers_reads_and_listing_needs_application_read_all():
    assert "lacks a role" in permission_hint(403, "GET", JOB_PATH, frozenset({"Synchronization.Read.All"}))
    assert "Application.Read.All" in permission_hint(403, "GET", "/servicePrincipals", frozenset({"Synchronization.Read.All"}))
    assert permission_hint(403, "GET", "/servicePrincipals", frozenset({"Application.Read.All"})) is None


def test_application_messages_stay_as_they_are():
    assert permission_hint(401, "POST", RESTART_PATH, False).startswith("the token lacks the permission Synchronization.ReadWrite.All")


class FakeAz:
    """Stands in for subprocess.run of az: records the commands, answers account list and get-access-token."""

    def __init__(self, accounts, lifetimes):
        self.accounts = accounts
        self.lifetimes = list(lifetimes)
        self.calls = []

    def __call__(self, command, **kwargs):
        self.calls.append(command[1:])
        if command[1:3] == ["account", "list"]:
            return subprocess.CompletedProcess(command, 0, json.dumps(self.accounts), "")
        expires_on = int(time.time()) + self.lifetimes.pop(0)
        return subprocess.CompletedProcess(command, 0, json.dumps({"accessToken": "tok-%d" % len(self.calls), "expires_on": expires_on}), "")


def test_azure_cli_asks_az_for_the_clouds_graph_resource_and_again_near_expiry(monkeypatch):
    fake = FakeAz([dict(ACCOUNT, cloudName="AzureUSGovernment")], [-1, 3600])
    monkeypatch.setattr(azure_cli.shutil, "which", lambda name: "/usr/bin/az")
    monkeypatch.setattr(azure_cli.subprocess, "run", fake)
    credential = credential_from_settings(settings(auth_method="azure_cli", tenant_id=TENANT, cloud="usgov"))
    first = credential.get_token()
    assert fake.calls[1] == ["account", "get-access-token", "--resource", "https://graph.microsoft.us", "--output", "json", "--tenant", TENANT]
    second = credential.get_token()  # the first one has expired: az is asked again
    assert first.token != second.token and len(fake.calls) == 3
    assert credential.get_token().token == second.token and len(fake.calls) == 3


def test_azure_cli_signed_out_is_refused_by_validate(monkeypatch):
    monkeypatch.setattr(azure_cli.shutil, "which", lambda name: "/usr/bin/az")
    monkeypatch.setattr(azure_cli.subprocess, "run", FakeAz([], []))
    with pytest.raises(AuthError, match="not signed in"):
        credential_from_settings(settings(auth_method="azure_cli"))


def test_device_code_errors_say_what_a_person_does():
    text = describe_device_code_error({"error": "invalid_client", "error_description": "AADSTS7000218: The request body must contain"},
                                      "the user", "abc")
    assert "client_id abc does not allow public client flows" in text and "client_secret" not in text
    assert "admin consent" in describe_device_code_error({"error": "invalid_grant", "error_description": "AADSTS65001: no"}, "u", "abc")
    assert "AADSTS90002" in describe_device_code_error({"error": "invalid_request", "error_description": "AADSTS90002: x"}, "u", "abc")


@pytest.mark.parametrize(
    "method, force, scopes, expected",
    [
        ("device_code", True, ["Synchronization.Read.All"], None),
        ("client_secret", False, None, None),
        ("client_secret", True, None, "force_sign_in applies to auth_method device_code only"),
        ("azure_cli", False, ["x"], "scopes applies to auth_method device_code only"),
        ("auto", True, ["x"], "force_sign_in and scopes apply"),
    ],
)
def test_token_task_problem(method, force, scopes, expected):
    problem = token_task_problem(method, force, scopes)
    assert (problem is None) if expected is None else expected in problem

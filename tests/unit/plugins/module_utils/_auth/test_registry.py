# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The process-level registry of sign-ins: its key, when a task may use the inventory's sign-in, and graph_token's action
plugin answering from it (token_source: inventory) or leaving the task to the module."""

from __future__ import annotations

import os

import pytest

from ansible_collections.entra.sync.plugins.action import graph_token as action
from ansible_collections.entra.sync.plugins.module_utils._auth import base, registry
from ansible_collections.entra.sync.plugins.module_utils._settings.options import GRAPH_ARGSPEC, GRAPH_TOKEN_ARGSPEC
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._auth.helpers import CLIENT, SECRET, TENANT, CountingCredential, settings

OTHER_TENANT = "00000000-0000-4000-8000-000000000002"
SANDBOX = {"authority_host": "https://127.0.0.1:8443", "graph_endpoint": "https://127.0.0.1:8443"}


def app(**options):
    values = dict(SANDBOX, tenant_id=TENANT, client_id=CLIENT, client_secret=SECRET)
    values.update(options)
    return settings(**{name: value for name, value in values.items() if value is not None})


@pytest.fixture(autouse=True)
def empty_registry():
    registry.forget_all()
    yield
    registry.forget_all()


def test_sign_in_key_is_who_the_token_is_for_and_never_a_secret():
    key = registry.sign_in_key(app(tenant_id=TENANT.upper(), client_id=CLIENT.upper()))
    assert key == ("https://127.0.0.1:8443", TENANT, CLIENT, "https://graph.microsoft.com/.default")
    assert SECRET not in repr(key)
    assert registry.sign_in_key(app(client_secret="another")) == key
    assert registry.sign_in_key(app(tenant_id=None)) is None
    assert registry.sign_in_key(app(authority_host=None)) != key  # another sign-in host
    assert registry.sign_in_key(app(cloud="usgov")) != registry.sign_in_key(app(cloud="global", graph_endpoint=None, authority_host=None))


@pytest.mark.parametrize("task, method, shared", [
    ({}, "client_secret", True),                                         # the same options (the environment's, typically)
    ({"client_secret": None}, "client_secret", True),                    # no credential of its own: the inventory's
    ({"auth_method": "client_secret"}, "client_secret", True),
    ({"tenant_id": TENANT.upper()}, "client_secret", True),               # ids compare case-insensitively
    ({"tenant_id": OTHER_TENANT}, "client_secret", False),               # another tenant
    ({"client_id": "22222222-2222-4222-8222-222222222222"}, "client_secret", False),  # another app
    ({"client_secret": "another-secret"}, "client_secret", False),        # a credential of its own: it signs in with it
    ({"client_secret": None, "client_certificate_path": "/etc/app.pem"}, "client_secret", False),
    ({"auth_method": "certificate"}, "client_secret", False),            # asks for another method
    ({"auth_method": "device_code", "client_secret": None}, "client_secret", False),
    ({"authority_host": "https://login.microsoftonline.com"}, "client_secret", False),
    ({}, "access_token", False),                                         # a given token is never shared
    ({}, "device_code", False),                                          # nor a person's sign-in
])
def test_may_share(task, method, shared):
    signed_in = app()
    assert registry.may_share(app(**task), signed_in, method) is shared


def test_remember_and_find(clock):
    credential = CountingCredential(app(), clock)
    assert registry.remember(credential) is True
    assert registry.shared_credential(app()) is credential
    assert registry.shared_credential(app(client_secret=None)) is credential
    assert registry.shared_credential(app(tenant_id=OTHER_TENANT)) is None
    assert registry.shared_credential(app(client_secret="another-secret")) is None
    registry.forget_all()
    assert registry.shared_credential(app()) is None


def test_remember_ignores_what_cannot_be_shared(clock):
    given = CountingCredential(app(), clock)
    given.method = "access_token"
    assert registry.remember(given) is False
    assert registry.remember(CountingCredential(app(tenant_id=None), clock)) is False
    assert registry.shared_credential(app()) is None


def params(**options):
    values = {name: spec.get("default") for name, spec in GRAPH_ARGSPEC.items()}
    values.update({name: spec.get("default") for name, spec in GRAPH_TOKEN_ARGSPEC.items()})
    values.update(SANDBOX, tenant_id=TENANT, client_id=CLIENT, client_secret=SECRET)
    values.update(options)
    return values


def test_action_answers_from_the_inventory_sign_in_and_renews_near_expiry(clock):
    credential = CountingCredential(app(), clock, lifetime=3600)
    credential.get_token()  # the inventory's sign-in
    registry.remember(credential)

    result = action.inventory_token(params())
    assert result["token_source"] == "inventory" and result["access_token"] == "fresh-1"
    assert (result["tenant_id"], result["auth_method"], result["changed"]) == (TENANT, "client_secret", False)
    assert credential.acquired == [False]  # no second sign-in

    clock.now += 3600 - 60  # within the refresh margin: the same credential renews it
    assert action.inventory_token(params(access_token="handed-down"))["access_token"] == "fresh-2"
    assert len(credential.acquired) == 2


def test_action_leaves_other_tasks_to_the_module(clock):
    credential = CountingCredential(app(), clock)
    registry.remember(credential)
    assert action.inventory_token(params(tenant_id=OTHER_TENANT)) is None
    assert action.inventory_token(params(client_secret="another-secret")) is None
    assert action.inventory_token(params(auth_method="access_token", access_token="x.y.z")) is None
    assert action.inventory_token(params(timeout=0)) is None  # a bad option: the module reports it
    assert credential.acquired == []


def test_msal_http_client_gets_its_own_session_after_a_fork(monkeypatch):
    client = base.RequestsForMsal(verify=True, timeout=5)
    parent_session = client._own_session()  # pylint: disable=protected-access
    assert client._own_session() is parent_session  # pylint: disable=protected-access
    child_pid = os.getpid() + 1
    monkeypatch.setattr(base.os, "getpid", lambda: child_pid)  # as in a forked worker
    child_session = client._own_session()  # pylint: disable=protected-access
    assert child_session is not parent_session
    assert client._own_session() is child_session  # pylint: disable=protected-access

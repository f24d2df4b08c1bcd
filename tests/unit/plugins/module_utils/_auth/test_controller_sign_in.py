# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""graph_token's action plugin signs in in the controller process (where, is plugin_utils/controller.works_here, tested in
tests/unit/plugins/plugin_utils/test_controller.py); pick.sign_in is the one sign-in both take."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.action import graph_token as action
from ansible_collections.entra.sync.plugins.module_utils._auth import pick
from ansible_collections.entra.sync.plugins.module_utils._exceptions import OptionError
from ansible_collections.entra.sync.plugins.module_utils._settings.options import GRAPH_ARGSPEC, GRAPH_TOKEN_ARGSPEC
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._auth.helpers import CLIENT, SECRET, TENANT, CountingCredential, settings

SANDBOX = {"authority_host": "https://127.0.0.1:8443", "graph_endpoint": "https://127.0.0.1:8443"}


def params(**options):
    values = {name: spec.get("default") for name, spec in GRAPH_ARGSPEC.items()}
    values.update({name: spec.get("default") for name, spec in GRAPH_TOKEN_ARGSPEC.items()})
    values.update(SANDBOX, tenant_id=TENANT, client_id=CLIENT, client_secret=SECRET)
    values.update(options)
    return values


def test_controller_token_signs_in_and_never_uses_a_handed_down_token(clock, monkeypatch):
    built = []

    def credential_from_settings(given):
        built.append(given)
        return CountingCredential(given, clock)

    monkeypatch.setattr(pick, "credential_from_settings", credential_from_settings)
    result = action.controller_token(params(access_token="handed-down"))
    assert result["access_token"] == "fresh-1" and result["token_source"] == "sign_in"
    assert (result["tenant_id"], result["auth_method"], result["changed"]) == (TENANT, "client_secret", False)
    assert built[0].access_token is None


def test_controller_token_failures_are_messages_without_secrets():
    refused = action.controller_token(params(auth_method="access_token", access_token="x.y.z"))
    assert refused["failed"] and "set auth_method to auto or to a credential kind" in refused["msg"]
    bad = action.controller_token(params(timeout=0))
    assert bad["failed"] and SECRET not in bad["msg"]


def test_sign_in_refuses_the_access_token_method():
    with pytest.raises(OptionError):
        pick.sign_in(settings(tenant_id=TENANT, access_token="x.y.z", auth_method="access_token"))

# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the national cloud table and the AWX/Azure aliases; China works like the other clouds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.entra.sync.plugins.module_utils._exceptions import CloudError
from ansible_collections.entra.sync.plugins.module_utils._settings.clouds import CLOUDS, resolve_cloud

# graph-facts.md, "National clouds": (Graph root, sign-in host, token scope). Restart and start are documented as
# available in each (China on Microsoft's current pages).
EXPECTED = {
    "global": ("https://graph.microsoft.com", "https://login.microsoftonline.com", "https://graph.microsoft.com/.default"),
    "usgov": ("https://graph.microsoft.us", "https://login.microsoftonline.us", "https://graph.microsoft.us/.default"),
    "usgovdod": ("https://dod-graph.microsoft.us", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us/.default"),
    "china": ("https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn/.default"),
}

AWX_NAMES = {
    "AzureCloud": "global",
    "AzureUSGovernment": "usgov",
    "AzureChinaCloud": "china",
}


def test_the_table_holds_exactly_the_four_documented_clouds():
    assert set(CLOUDS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_cloud_has_the_documented_hosts_and_scope(name):
    graph_root, authority_host, scope = EXPECTED[name]
    cloud = resolve_cloud(name)
    assert cloud.name == name
    assert cloud.graph_root == graph_root
    assert cloud.authority_host == authority_host
    assert cloud.scope == scope
    # Managed identity asks for a resource, not a scope: the Graph root without /.default.
    assert cloud.resource == graph_root


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_roots_have_no_trailing_slash(name):
    cloud = CLOUDS[name]
    assert not cloud.graph_root.endswith("/")
    assert not cloud.authority_host.endswith("/")


@pytest.mark.parametrize("awx_name, expected", sorted(AWX_NAMES.items()))
def test_awx_cloud_names_are_accepted(awx_name, expected):
    assert resolve_cloud(awx_name) is CLOUDS[expected]


@pytest.mark.parametrize(
    "spelling, expected",
    [
        ("GLOBAL", "global"),
        ("Global", "global"),
        (" usgov ", "usgov"),
        ("USGovDoD", "usgovdod"),
        ("azurecloud", "global"),
        ("AZUREUSGOVERNMENT", "usgov"),
        ("azureChinaCloud", "china"),
    ],
)
def test_names_are_case_insensitive_and_trimmed(spelling, expected):
    assert resolve_cloud(spelling) is CLOUDS[expected]


@given(
    name=st.sampled_from(sorted(set(EXPECTED) | set(AWX_NAMES))),
    flips=st.lists(st.booleans(), min_size=20, max_size=20),
)
def test_any_casing_of_a_known_name_resolves_to_the_same_cloud(name, flips):
    mixed = "".join(char.upper() if flip else char.lower() for char, flip in zip(name, flips, strict=False))
    assert resolve_cloud(mixed) is resolve_cloud(name)


def test_no_name_means_global():
    assert resolve_cloud(None) is CLOUDS["global"]


@pytest.mark.parametrize("name", ["mars", "AzureGermanCloud", "gov", "global-ish", "usgov l4"])
def test_unknown_names_are_refused_with_the_valid_ones(name):
    with pytest.raises(CloudError) as info:
        resolve_cloud(name)
    text = str(info.value)
    assert repr(name) in text
    for valid in ("global", "usgov", "usgovdod", "china", "AzureCloud", "AzureUSGovernment", "AzureChinaCloud"):
        assert valid in text


def test_cloud_error_is_a_value_error():
    assert issubclass(CloudError, ValueError)

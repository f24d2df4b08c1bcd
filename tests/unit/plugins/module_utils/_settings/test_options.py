# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the shared connection options: the argspec, its env fallbacks and settings_from_options()."""

from __future__ import annotations

import re

import pytest
import yaml
from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import AnsibleFallbackNotFound

from ansible_collections.entra.sync.plugins.doc_fragments.graph import ModuleDocFragment
from ansible_collections.entra.sync.plugins.module_utils._exceptions import OptionError
from ansible_collections.entra.sync.plugins.module_utils._settings.clouds import CLOUDS
from ansible_collections.entra.sync.plugins.module_utils._settings.options import (
    AUTH_METHODS,
    ENV_FALLBACKS,
    GRAPH_ARGSPEC,
    MAX_RETRIES,
    MAX_TIMEOUT,
    ConnectionSettings,
    graph_argspec,
    settings_from_options,
)

TENANT = "00000000-0000-4000-8000-000000000001"

# design.md, "Options every module shares": env fallbacks, first wins.
DESIGN_ENV = {
    "tenant_id": ["AZURE_TENANT_ID", "AZURE_TENANT"],
    "client_id": ["AZURE_CLIENT_ID"],
    "client_secret": ["AZURE_CLIENT_SECRET", "AZURE_SECRET"],
    "client_certificate_path": ["AZURE_CLIENT_CERTIFICATE_PATH"],
    "client_certificate_password": ["AZURE_CLIENT_CERTIFICATE_PASSWORD"],
    "federated_token_file": ["AZURE_FEDERATED_TOKEN_FILE"],
    "access_token": ["ENTRA_SYNC_ACCESS_TOKEN"],
    "cloud": ["AZURE_CLOUD_ENVIRONMENT"],
    "graph_endpoint": ["ENTRA_SYNC_GRAPH_ENDPOINT"],
    "authority_host": ["AZURE_AUTHORITY_HOST"],
    "ca_path": ["ENTRA_SYNC_CA_PATH"],
    "token_cache_path": ["ENTRA_SYNC_TOKEN_CACHE"],  # design.md, second round (delegated sign-in)
}
SECRET_OPTIONS = ("client_secret", "client_certificate_password", "access_token")
ALL_ENV_NAMES = sorted({name for names in DESIGN_ENV.values() for name in names})


def settings(**options):
    """settings_from_options() the way a module calls it: with a dict's .get (absent options are None)."""
    return settings_from_options(dict(options).get)


def refused(**options):
    with pytest.raises(OptionError) as info:
        settings(**options)
    return str(info.value)


@pytest.fixture
def clean_env(monkeypatch):
    for name in ALL_ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# ---------------------------------------------------------------------------------------------------
# The argspec


def test_argspec_has_every_shared_option():
    expected = set(DESIGN_ENV) | {"managed_identity", "auth_method", "validate_certs", "timeout", "max_retries"}
    assert set(GRAPH_ARGSPEC) == expected


@pytest.mark.parametrize("name", SECRET_OPTIONS)
def test_secret_options_are_no_log(name):
    assert GRAPH_ARGSPEC[name].get("no_log") is True


@pytest.mark.parametrize("name", sorted(set(GRAPH_ARGSPEC) - set(SECRET_OPTIONS)))
def test_other_options_are_not_no_log(name):
    # tenant_id and client_id are identifiers: hiding them would hide them from every result too.
    assert not GRAPH_ARGSPEC[name].get("no_log")


def test_every_option_ansible_would_think_a_password_is_no_log():
    # The same pattern AnsibleModule uses to warn about unprotected password-like options.
    password_like = re.compile(r"^(?:.+[-_\s])?pass(?:[-_\s]?(?:word|phrase|wrd|wd)?)(?:[-_\s].+)?$", re.I)
    for name, spec in GRAPH_ARGSPEC.items():
        if password_like.match(name):
            assert spec.get("no_log") is True, name


@pytest.mark.parametrize("name", sorted(DESIGN_ENV))
def test_env_fallbacks_are_exactly_the_design_table(name):
    function, names = GRAPH_ARGSPEC[name]["fallback"]
    assert function is env_fallback
    assert list(names) == DESIGN_ENV[name]
    assert ENV_FALLBACKS[name] == DESIGN_ENV[name]


@pytest.mark.parametrize("name", ["managed_identity", "auth_method", "validate_certs", "timeout", "max_retries"])
def test_options_without_env_have_no_fallback(name):
    assert "fallback" not in GRAPH_ARGSPEC[name]


@pytest.mark.parametrize("name", [name for name, names in sorted(DESIGN_ENV.items()) if len(names) > 1])
def test_first_env_name_wins(clean_env, name):
    function, names = GRAPH_ARGSPEC[name]["fallback"]
    first, second = names
    clean_env.setenv(second, "from-second")
    assert function(*names) == "from-second"
    clean_env.setenv(first, "from-first")
    assert function(*names) == "from-first"


@pytest.mark.parametrize("name", sorted(DESIGN_ENV))
def test_fallback_not_found_without_env(clean_env, name):
    function, names = GRAPH_ARGSPEC[name]["fallback"]
    with pytest.raises(AnsibleFallbackNotFound):
        function(*names)


def test_validator_uses_env_and_hides_env_secrets(clean_env):
    clean_env.setenv("AZURE_TENANT", TENANT)
    clean_env.setenv("AZURE_SECRET", "s3cr3t-from-awx")
    clean_env.setenv("ENTRA_SYNC_ACCESS_TOKEN", "tok-from-role")
    clean_env.setenv("AZURE_CLOUD_ENVIRONMENT", "AzureUSGovernment")
    result = ArgumentSpecValidator(graph_argspec()).validate({})
    assert result.error_messages == []
    params = result.validated_parameters
    assert params["tenant_id"] == TENANT
    assert params["client_secret"] == "s3cr3t-from-awx"
    # The env value wins over the default "global".
    assert params["cloud"] == "AzureUSGovernment"
    assert {"s3cr3t-from-awx", "tok-from-role"} <= set(result._no_log_values)
    assert TENANT not in result._no_log_values
    built = settings_from_options(params.get)
    assert built.cloud is CLOUDS["usgov"]
    assert built.secret_values() == ["s3cr3t-from-awx", "tok-from-role"]


def test_validator_defaults(clean_env):
    params = ArgumentSpecValidator(graph_argspec()).validate({}).validated_parameters
    assert params["cloud"] == "global"
    assert params["auth_method"] == "auto"
    assert params["validate_certs"] is True
    assert params["timeout"] == 30.0
    assert params["max_retries"] == 5


def test_auth_method_choices_are_the_methods():
    assert GRAPH_ARGSPEC["auth_method"]["choices"] == list(AUTH_METHODS)


def test_graph_argspec_returns_a_copy():
    spec = graph_argspec()
    spec["tenant_id"]["required"] = True
    spec["extra"] = {"type": "str"}
    assert "required" not in GRAPH_ARGSPEC["tenant_id"]
    assert "extra" not in GRAPH_ARGSPEC


def test_doc_fragment_matches_the_argspec():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(documented) == set(GRAPH_ARGSPEC)
    for name, spec in GRAPH_ARGSPEC.items():
        doc = documented[name]
        assert doc.get("type") == spec.get("type"), name
        if "default" in spec:
            assert doc.get("default") == spec["default"], name
        if "choices" in spec:
            assert doc.get("choices") == spec["choices"], name
        text = " ".join(doc["description"])
        positions = [text.find("E(%s)" % env) for env in DESIGN_ENV.get(name, [])]
        assert all(position >= 0 for position in positions), name
        assert positions == sorted(positions), name


# ---------------------------------------------------------------------------------------------------
# settings_from_options


def test_defaults_from_an_empty_dict():
    built = settings()
    assert built.cloud is CLOUDS["global"]
    assert built.graph_root == "https://graph.microsoft.com"
    assert built.graph_base == "https://graph.microsoft.com/v1.0"
    assert built.authority_host == "https://login.microsoftonline.com"
    assert built.scope == "https://graph.microsoft.com/.default"
    assert built.verify is True
    assert built.validate_certs is True
    assert built.timeout == 30.0
    assert built.max_retries == 5
    assert built.auth_method == "auto"
    assert built.tenant_id is None
    assert built.secret_values() == []


@pytest.mark.parametrize("name", ["usgov", "usgovdod", "AzureUSGovernment"])
def test_cloud_sets_the_hosts(name):
    built = settings(cloud=name)
    cloud = CLOUDS["usgovdod" if name == "usgovdod" else "usgov"]
    assert built.cloud is cloud
    assert built.graph_root == cloud.graph_root
    assert built.authority_host == cloud.authority_host
    assert built.scope == cloud.graph_root + "/.default"


def test_unknown_cloud_is_an_option_error():
    assert "mars" in refused(cloud="mars")


def test_china_works_like_the_other_clouds():
    built = settings(cloud="china")
    assert built.graph_root == "https://microsoftgraph.chinacloudapi.cn"
    assert built.authority_host == "https://login.chinacloudapi.cn"
    built = settings(cloud="AzureChinaCloud", graph_endpoint="https://graph.example.cn")
    assert built.graph_root == "https://graph.example.cn"
    assert built.authority_host == "https://login.chinacloudapi.cn"
    assert built.scope == "https://microsoftgraph.chinacloudapi.cn/.default"


@pytest.mark.parametrize(
    "value, root",
    [
        ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
        ("https://127.0.0.1:8443/", "https://127.0.0.1:8443"),
        ("  https://graph.example.com  ", "https://graph.example.com"),
        ("HTTPS://graph.example.com", "https://graph.example.com"),
    ],
)
@pytest.mark.parametrize("option", ["graph_endpoint", "authority_host"])
def test_root_url_overrides(option, value, root):
    built = settings(**{option: value})
    attribute = "graph_root" if option == "graph_endpoint" else "authority_host"
    assert getattr(built, attribute) == root


def test_graph_endpoint_override_sets_the_base_and_keeps_the_scope():
    built = settings(graph_endpoint="https://127.0.0.1:8443")
    assert built.graph_base == "https://127.0.0.1:8443/v1.0"
    assert built.authority_host == "https://login.microsoftonline.com"
    assert built.scope == "https://graph.microsoft.com/.default"


@pytest.mark.parametrize(
    "value, says",
    [
        ("http://127.0.0.1:8443", "https://"),
        ("graph.microsoft.com", "https://"),
        ("ftp://graph.microsoft.com", "https://"),
        ("https://", "https://"),
        ("https:///v1.0", "https://"),
        ("https://graph.microsoft.com/v1.0", "no path"),
        ("https://127.0.0.1:8443/tenant", "no path"),
        ("https://graph.microsoft.com/?x=1", "no path or query"),
        ("https://graph.microsoft.com?x=1", "no path or query"),
        ("https://graph.microsoft.com/#top", "no path"),
    ],
)
@pytest.mark.parametrize("option", ["graph_endpoint", "authority_host"])
def test_root_urls_are_https_with_no_path(option, value, says):
    text = refused(**{option: value})
    assert text.startswith(option + " ")
    assert says in text


@pytest.mark.parametrize("value", [0.5, 1, 30, MAX_TIMEOUT, "10"])
def test_timeout_in_range(value):
    assert settings(timeout=value).timeout == float(value)


@pytest.mark.parametrize("value", [0, -1, MAX_TIMEOUT + 0.5, 10_000, float("nan"), float("inf")])
def test_timeout_out_of_range(value):
    text = refused(timeout=value)
    assert text.startswith("timeout ")
    assert str(MAX_TIMEOUT) in text


@pytest.mark.parametrize("value", [0, 1, MAX_RETRIES])
def test_max_retries_in_range(value):
    assert settings(max_retries=value).max_retries == value


@pytest.mark.parametrize("value", [-1, MAX_RETRIES + 1, 100])
def test_max_retries_out_of_range(value):
    text = refused(max_retries=value)
    assert text.startswith("max_retries ")
    assert "0 to %d" % MAX_RETRIES in text


@pytest.mark.parametrize(
    "value",
    [TENANT, TENANT.upper(), "contoso.onmicrosoft.com", "Contoso.com", "sub.contoso.co.uk", "a-b.example"],
)
def test_tenant_id_guid_or_domain(value):
    assert settings(tenant_id=value).tenant_id == value


@pytest.mark.parametrize(
    "value",
    [
        "contoso",
        "not a tenant",
        "contoso.onmicrosoft.com/extra",
        "../etc",
        TENANT + "0",
        TENANT[:-1],
        "-contoso.com",
        "contoso.com.",
        "https://login.microsoftonline.com/" + TENANT,
        "common",
        "organizations",
        "consumers",
        "COMMON",
    ],
)
def test_tenant_id_refused(value):
    text = refused(tenant_id=value)
    assert text.startswith("tenant_id ")
    assert "directory (tenant) id" in text


def test_tenant_id_message_does_not_echo_a_pasted_blob():
    text = refused(tenant_id="x" * 5000)
    assert len(text) < 500


@pytest.mark.parametrize("value", ["common", "organizations", "consumers"])
def test_multi_tenant_aliases_get_their_own_message(value):
    assert "application sign-in" in refused(tenant_id=value)


def test_unreadable_ca_path(tmp_path):
    missing = tmp_path / "missing.pem"
    text = refused(ca_path=str(missing))
    assert text.startswith("ca_path ")
    assert str(missing) in text


def test_ca_path_becomes_verify(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert settings(ca_path=str(bundle)).verify == str(bundle)
    assert settings(ca_path=str(bundle), validate_certs=True).verify == str(bundle)


def test_validate_certs_false_means_no_verification(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    assert settings(validate_certs=False).verify is False
    assert settings(validate_certs=False, ca_path=str(bundle)).verify is False
    assert settings(validate_certs=False).validate_certs is False


def test_validate_certs_unset_means_verify():
    assert settings(validate_certs=None).verify is True


def test_unknown_auth_method():
    text = refused(auth_method="kerberos")
    assert "kerberos" in text
    for method in AUTH_METHODS:
        assert method in text


def test_identifiers_and_paths_are_stripped_and_blank_is_none():
    built = settings(tenant_id="  %s " % TENANT, client_id=" app ", managed_identity="  ", access_token=" tok \n")
    assert built.tenant_id == TENANT
    assert built.client_id == "app"
    assert built.managed_identity is None
    assert built.access_token == "tok"


def test_secret_values_lists_every_secret_given():
    built = settings(client_secret="sec", client_certificate_password="pw", access_token="tok")
    assert built.secret_values() == ["sec", "pw", "tok"]
    assert settings(client_secret="sec").secret_values() == ["sec"]
    assert settings(client_secret="", access_token=None).secret_values() == []


def test_repr_hides_secrets():
    built = settings(client_secret="sec-VALUE", client_certificate_password="pw-VALUE", access_token="tok-VALUE", tenant_id=TENANT)
    text = repr(built)
    assert TENANT in text
    for secret in ("sec-VALUE", "pw-VALUE", "tok-VALUE"):
        assert secret not in text


def test_settings_are_frozen():
    built = settings()
    with pytest.raises(AttributeError):
        built.verify = False
    assert isinstance(built, ConnectionSettings)


def test_option_error_is_a_value_error():
    assert issubclass(OptionError, ValueError)


def test_nothing_but_the_options_is_read(clean_env):
    # Env values reach the settings only through the argspec's fallbacks, never behind the caller's back.
    clean_env.setenv("AZURE_TENANT_ID", TENANT)
    clean_env.setenv("ENTRA_SYNC_GRAPH_ENDPOINT", "https://127.0.0.1:1")
    built = settings()
    assert built.tenant_id is None
    assert built.graph_root == "https://graph.microsoft.com"

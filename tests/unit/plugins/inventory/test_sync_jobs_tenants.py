# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sync_jobs inventory plugin's tenant mode (host_per: tenant): its pure helpers, and parse() over fake tenant scans
(hosts, group, variables without secrets, an unreadable tenant, filters, constructed groups, cache, the sign-in registry)."""

import importlib.util
import json
import threading
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleParserError

from ansible_collections.entra.sync.plugins.inventory import sync_jobs
from ansible_collections.entra.sync.plugins.module_utils._auth import registry
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, InputError
from ansible_collections.entra.sync.plugins.module_utils._fleet import tenant_hosts as th
from ansible_collections.entra.sync.plugins.module_utils._fleet.inventory_hosts import parse_tenants
from ansible_collections.entra.sync.plugins.module_utils._settings.options import settings_from_options
from ansible_collections.entra.sync.tests.unit.plugins.inventory.test_sync_jobs import T1, T2, Harness, scan_of, sp_id, trust_as_template

SECRETS = ("s3cret", "t2-secret", "pfx-pass")
REPO = Path(__file__).resolve().parents[4]
_SPEC = importlib.util.spec_from_file_location("doc_blocks", REPO / "tests" / "tools" / "doc_blocks.py")
doc_blocks = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(doc_blocks)


@pytest.fixture(autouse=True)
def empty_registry():
    registry.forget_all()
    yield
    registry.forget_all()


# ---- pure helpers --------------------------------------------------------------------------------------------------

def test_check_host_per():
    assert th.check_host_per("tenant") == "tenant"
    assert th.check_host_per("job") == "job"
    with pytest.raises(InputError, match="host_per 'tenants' is not known: use job .* or tenant"):
        th.check_host_per("tenants")


def test_tenant_host_names():
    assert th.tenant_host_names([{"tenant_id": T1, "name": " fabrikam "}, {"tenant_id": "contoso.onmicrosoft.com"}],
                                [T1, "contoso.onmicrosoft.com"]) == ["fabrikam", "contoso.onmicrosoft.com"]
    assert th.tenant_host_names([{}], [T1]) == [T1]  # the one tenant of tenant_id


@pytest.mark.parametrize("entries, tenant_ids, message", [
    ([{}], [None], "set tenant_id"),
    ([{"tenant_id": T1, "name": "x"}, {"tenant_id": T2, "name": "X"}], [T1, T2], "host name X to two tenants"),
    ([{"tenant_id": T1, "name": T2}, {"tenant_id": T2}], [T1, T2], "host name %s to two tenants" % T2),
    ([{"tenant_id": T1, "name": "  "}], [T1], r"tenants\[0\] name must be a non-empty string"),
    ([{"tenant_id": T1, "name": 5}], [T1], r"tenants\[0\] name must be a non-empty string"),
])
def test_tenant_host_names_refuses(entries, tenant_ids, message):
    with pytest.raises(InputError, match=message):
        th.tenant_host_names(entries, tenant_ids)


def test_public_sign_in_options_item_first_never_secrets():
    entry = {"tenant_id": T1, "client_id": "item-app", "client_secret": "s3cret", "access_token": "tok", "name": "n"}
    source = {"client_id": "source-app", "auth_method": "certificate", "client_certificate_path": "/etc/a.pem",
              "client_certificate_password": "pfx-pass", "token_cache_path": ""}
    assert th.public_sign_in_options(entry, source) == {"client_id": "item-app", "auth_method": "certificate",
                                                        "client_certificate_path": "/etc/a.pem"}


def test_job_counts_has_the_report_shape():
    jobs = [{"template_id": "scim", "status_code": "Quarantine"}, {"template_id": "scim", "status_code": "Active"},
            {"template_id": "AD2AADProvisioning", "status_code": "Quarantine"}, {"template_id": "scim", "status_code": "Quarantine"},
            {"template_id": None, "status_code": None}]
    counts = th.job_counts(jobs)
    assert counts == {"AD2AADProvisioning": {"Quarantine": 1}, "scim": {"Active": 1, "Quarantine": 2}, "unknown": {"unknown": 1}}
    assert list(counts) == sorted(counts) and list(counts["scim"]) == ["Active", "Quarantine"]


def test_tenant_host_vars():
    jobs = [{"template_id": "scim", "status_code": "Paused"}]
    assert th.tenant_host_vars(T1, {"client_id": "app", "client_secret": "s3cret"}, jobs, 4) == {
        "entra_sync_tenant_id": T1, "entra_sync_client_id": "app", "entra_sync_jobs_found": 1,
        "entra_sync_job_counts": {"scim": {"Paused": 1}}, "entra_sync_service_principals_read": 4, "entra_sync_inventory_error": None}
    failed = th.tenant_host_vars(T2, {}, [], None, error="Sign-in failed")
    assert failed["entra_sync_inventory_error"] == "Sign-in failed"
    assert failed["entra_sync_jobs_found"] is None and failed["entra_sync_job_counts"] is None  # unknown, not zero
    assert failed["entra_sync_service_principals_read"] is None


# ---- parse() -------------------------------------------------------------------------------------------------------

def failing(message):
    def scan():
        raise AuthError(message)
    return scan


def host_vars_of(inventory):
    return {name: {key: value for key, value in host.get_vars().items() if key.startswith("entra_sync_") or key == "label"}
            for name, host in inventory.hosts.items()}


def test_parse_tenant_hosts_with_counts_and_no_secret(monkeypatch):
    options = {"host_per": "tenant", "client_certificate_password": "pfx-pass",
               "tenants": [{"tenant_id": T1, "name": "fabrikam"}, {"tenant_id": T2, "client_id": "t2-app", "client_secret": "t2-secret"}],
               "status_codes": ["quarantine", "paused"],
               "compose": {"label": trust_as_template("entra_sync_tenant_id[:4] ~ '=' ~ entra_sync_jobs_found")}, "strict": True,
               "keyed_groups": [{"key": trust_as_template("entra_sync_client_id | default('shared')"), "prefix": "app"}]}
    scans = {T1: scan_of((1, "scim.1", "scim", "Quarantine"), (1, "scim.2", "scim", "Active"), (2, "ad.3", "AD2AADProvisioning", "Paused")),
             T2: scan_of((5, "scim.5", "scim", "Active"), read=7)}
    harness = Harness(monkeypatch, options, scans)
    inventory = harness.parse()

    assert set(inventory.hosts) == {"fabrikam", T2}
    assert {host.name for host in inventory.groups["entra_tenants"].get_hosts()} == {"fabrikam", T2}
    variables = host_vars_of(inventory)
    assert variables["fabrikam"] == {
        "entra_sync_tenant_id": T1, "entra_sync_jobs_found": 2, "entra_sync_service_principals_read": 2,
        "entra_sync_job_counts": {"AD2AADProvisioning": {"Paused": 1}, "scim": {"Quarantine": 1}},
        "entra_sync_inventory_error": None, "label": "1111=2"}
    assert variables[T2]["entra_sync_client_id"] == "t2-app"
    assert (variables[T2]["entra_sync_jobs_found"], variables[T2]["entra_sync_job_counts"]) == (0, {})
    assert variables[T2]["entra_sync_service_principals_read"] == 7
    assert {host.name for host in inventory.groups["app_t2_app"].get_hosts()} == {T2}
    assert "quarantined" not in inventory.groups  # no per-job host nor condition group in this mode
    dumped = json.dumps([host.get_vars() for host in inventory.hosts.values()] + [inventory.groups["all"].get_vars()])
    for secret in SECRETS:
        assert secret not in dumped


def test_parse_a_tenant_that_cannot_be_read_is_a_host_with_the_reason(monkeypatch):
    options = {"host_per": "tenant", "tenants": [T1, T2]}
    harness = Harness(monkeypatch, options, {T1: failing("Sign-in as app app in tenant %s failed: invalid_client" % T1),
                                             T2: scan_of((2, "scim.2", "scim", "Quarantine"))})
    warnings = harness.warnings(monkeypatch)
    inventory = harness.parse()
    variables = host_vars_of(inventory)
    assert set(variables) == {T1, T2}
    assert "invalid_client" in variables[T1]["entra_sync_inventory_error"]
    assert variables[T1]["entra_sync_jobs_found"] is None
    assert variables[T2]["entra_sync_jobs_found"] == 1 and variables[T2]["entra_sync_inventory_error"] is None
    assert len(warnings) == 1 and T1 in warnings[0] and "invalid_client" in warnings[0]
    errors = inventory.groups["all"].get_vars()["entra_sync_inventory_errors"]
    assert [(error["tenant_id"], error["service_principal_id"]) for error in errors] == [(T1, None)]
    # the same failure in job mode fails the source, as before
    harness.options["host_per"] = "job"
    with pytest.raises(AnsibleParserError, match="could not be listed.*invalid_client"):
        harness.parse()


def test_parse_tenant_mode_partial_reads_and_no_permission(monkeypatch):
    error = {"service_principal_id": sp_id(9), "message": "Graph answered 500"}
    denied = {"service_principal_id": sp_id(8), "message": "401: needs Synchronization.ReadWrite.All"}
    harness = Harness(monkeypatch, {"host_per": "tenant", "tenants": [T1, T2]},
                      {T1: scan_of((1, "scim.1", "scim", "Active"), errors=[error]), T2: scan_of(errors=[denied])})
    inventory = harness.parse()
    variables = host_vars_of(inventory)
    assert variables[T1]["entra_sync_jobs_found"] == 1 and variables[T1]["entra_sync_inventory_error"] is None
    assert "Synchronization.ReadWrite.All" in variables[T2]["entra_sync_inventory_error"]
    errors = inventory.groups["all"].get_vars()["entra_sync_inventory_errors"]
    assert {(entry["tenant_id"], entry["service_principal_id"]) for entry in errors} == {(T1, sp_id(9)), (T2, None)}


def test_parse_tenant_mode_cache_keeps_counts_and_skips_graph(monkeypatch):
    harness = Harness(monkeypatch, {"host_per": "tenant", "cache": True},
                      {T1: scan_of((1, "scim.1", "scim", "Quarantine"), (2, "aws.2", "aws", "Active"))})
    first = host_vars_of(harness.parse())
    assert first[T1]["entra_sync_jobs_found"] == 2
    harness.options["template_ids"] = ["AWS"]
    second = host_vars_of(harness.parse())
    assert len(harness.calls) == 1  # from the cache
    assert second[T1]["entra_sync_job_counts"] == {"aws": {"Active": 1}}
    assert second[T1]["entra_sync_service_principals_read"] == first[T1]["entra_sync_service_principals_read"] == 2


@pytest.mark.parametrize("options, message", [
    ({"host_per": "tenants"}, "host_per 'tenants' is not known"),
    ({"host_per": "tenant", "tenant_id": None}, "set tenant_id"),
    ({"host_per": "tenant", "tenants": [{"tenant_id": T1, "name": "a"}, {"tenant_id": T2, "name": "A"}]}, "host name A to two tenants"),
    ({"host_per": "tenant", "tenants": [T1, {"tenant_id": T2, "client_secret": None, "client_id": None}], "client_secret": None},
     "tenant %s: .*No credential was given" % T1),
])
def test_parse_tenant_mode_option_errors_before_any_request(monkeypatch, options, message):
    harness = Harness(monkeypatch, options, {})
    with pytest.raises(AnsibleParserError, match=message):
        harness.parse()
    assert harness.calls == []


def test_parse_tenant_mode_reads_tenants_side_by_side(monkeypatch):
    both_reading = threading.Barrier(2, timeout=30)  # read one after another, the first scan would wait here in vain

    def scan_when_both_read(*jobs):
        def scan():
            both_reading.wait()
            return scan_of(*jobs)()
        return scan

    harness = Harness(monkeypatch, {"host_per": "tenant", "tenants": [T1, T2]},
                      {T1: scan_when_both_read((1, "scim.1", "scim", "Active")), T2: scan_when_both_read((2, "scim.2", "scim", "Paused"))})
    variables = host_vars_of(harness.parse())
    assert (variables[T1]["entra_sync_jobs_found"], variables[T2]["entra_sync_job_counts"]) == (1, {"scim": {"Paused": 1}})


def test_parse_remembers_each_tenant_sign_in_for_graph_token(monkeypatch):
    harness = Harness(monkeypatch, {"host_per": "tenant", "tenants": [T1, T2]},
                      {T1: scan_of((1, "scim.1", "scim", "Active")), T2: failing("Sign-in failed: invalid_client")})
    harness.parse()
    # the credential of the tenant it read is kept; the failed tenant's is not
    found = registry.shared_credential(settings_of(T1))
    assert found is not None and found.settings.tenant_id == T1 and found.method == "client_secret"
    assert registry.shared_credential(settings_of(T2)) is None
    # job mode keeps no sign-in: its plays sign in as they always did
    registry.forget_all()
    Harness(monkeypatch, {"tenants": [T1]}, {T1: scan_of((1, "scim.1", "scim", "Active"))}).parse()
    assert registry.shared_credential(settings_of(T1)) is None


def settings_of(tenant_id):
    return settings_from_options({"tenant_id": tenant_id, "client_id": "app", "graph_endpoint": "https://127.0.0.1:8443"}.get)


# ---- the documented inventories -------------------------------------------------------------------------------------

FIXED_HOST_VARS = {"entra_sync_" + name for name in (
    "tenant_id", "client_id", "client_secret", "client_certificate_path", "client_certificate_password", "federated_token_file",
    "managed_identity", "auth_method", "token_cache_path", "tenant_access_token")}
SECRET_HOST_VARS = {"entra_sync_client_secret", "entra_sync_client_certificate_password", "entra_sync_tenant_access_token"}


def doc_yaml_blocks(path, heading):
    return [yaml.safe_load(body) for language, body in doc_blocks.fenced_blocks((REPO / path).read_text(encoding="utf-8"), heading)
            if language == "yaml"]


def test_the_documented_static_inventory_uses_the_fixed_names_and_holds_no_secret():
    (inventory,) = doc_yaml_blocks("docs/tenants.md", "A static inventory of tenants")
    assert set(inventory) == {th.TENANT_GROUP}
    group = inventory[th.TENANT_GROUP]
    assert len(group["hosts"]) >= 2
    for variables in [group["vars"]] + [host or {} for host in group["hosts"].values()]:
        assert set(variables) <= FIXED_HOST_VARS - SECRET_HOST_VARS, variables


def test_the_documented_tenant_mode_sources_parse():
    sources = doc_yaml_blocks("docs/tenants.md", "The inventory plugin's tenant mode")[:1]
    sources += doc_yaml_blocks("docs/inventory.md", "Tenant mode (`host_per: tenant`)")
    sources += [yaml.safe_load(example) for example in sync_jobs.EXAMPLES.split("\n\n") if "host_per: tenant" in example]
    assert len(sources) == 3
    for source in sources:
        assert source["plugin"] == "entra.sync.sync_jobs" and source["host_per"] == "tenant"
        entries = parse_tenants(source["tenants"], th.INVENTORY_TENANT_KEYS)
        names = th.tenant_host_names(entries, [entry["tenant_id"] for entry in entries])
        assert len(set(names)) == len(entries) >= 2

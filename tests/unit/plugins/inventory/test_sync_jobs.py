# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the sync_jobs inventory plugin: names, host variables, tenants, filters, unsafe text, the env
fragment, and parse() over a fake tenant scan (hosts, groups, cache, read errors)."""

import random

import pytest
import yaml
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.entra.sync.plugins.doc_fragments.graph import ModuleDocFragment
from ansible_collections.entra.sync.plugins.inventory import sync_jobs
from ansible_collections.entra.sync.plugins.module_utils._fleet import inventory_hosts as ih
from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import matching_conditions
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import job_from_dict, parse_job
from ansible_collections.entra.sync.plugins.module_utils._service.discovery import JobFilter, Scan
from ansible_collections.entra.sync.plugins.module_utils._settings.options import ENV_FALLBACKS

try:
    from ansible.template import trust_as_template  # ansible-core 2.19+: only trusted text is templated
except ImportError:
    def trust_as_template(value):
        return value

T1 = "11111111-1111-4111-8111-111111111111"
T2 = "22222222-2222-4222-8222-222222222222"


def sp_id(index):
    return "00000000-0000-4000-8000-%012d" % index


def job(sp=1, name="App One", job_id="scim.0001", tenant=T1, status="Active", template="scim", **extra):
    data = {"tenant_id": tenant, "service_principal_id": sp_id(sp), "service_principal_name": name, "app_id": "app-%d" % sp,
            "job_id": job_id, "template_id": template, "status_code": status, "schedule_state": "Active",
            "last_execution_state": "Succeeded", "quarantine_reason": None, "count_successive_complete_failures": 0}
    data.update(extra)
    return data


# ---- names -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("HR Workday -> AD (prod)", "hr_workday_ad_prod"),
    ("  Salesforce  ", "salesforce"),
    ("Zürich Café", "zurich_cafe"),
    ("{{ lookup('env','HOME') }}", "lookup_env_home"),
    ("日本語", ""),
    ("", ""),
    (None, ""),
    ("a" * 60, "a" * 40),
    ("a" * 39 + " b", "a" * 39),  # no trailing '_' after the cut
])
def test_slug(text, expected):
    assert ih.slug(text) == expected


def test_safe_part():
    assert ih.safe_part("scim.0123abc") == "scim.0123abc"
    assert ih.safe_part("a/b c") == "a_b_c"
    assert ih.safe_part("") == "unknown"
    assert ih.safe_part(None) == "unknown"


def test_host_names_readable_and_unique():
    jobs = [job(1, "App One", "scim.1"), job(2, "App Two", "scim.2"), job(3, None, "aws.3"), job(4, "日本", "aws.4")]
    assert ih.host_names(jobs) == ["app_one__scim.1", "app_two__scim.2", "%s__aws.3" % sp_id(3), "%s__aws.4" % sp_id(4)]


def test_host_names_collisions_use_the_service_principal_id_then_the_tenant():
    jobs = [
        job(1, "Workday HR", "scim.1"),
        job(2, "Workday-HR", "scim.1"),         # same slug and job id as the first: both get the sp id
        job(3, "Workday HR", "scim.3"),         # same slug, other job id: unchanged
        job(5, "Dup", "scim.5", tenant=T1),
        job(5, "Dup", "scim.5", tenant=T2),     # same sp and job in two tenants: the tenant is added
    ]
    assert ih.host_names(jobs) == [
        "workday_hr__%s__scim.1" % sp_id(1),
        "workday_hr__%s__scim.1" % sp_id(2),
        "workday_hr__scim.3",
        "dup__%s__scim.5__%s" % (sp_id(5), T1),
        "dup__%s__scim.5__%s" % (sp_id(5), T2),
    ]


def test_host_names_do_not_depend_on_order():
    jobs = [job(index % 7, "App %d" % (index % 3), "scim.%d" % (index % 5), tenant=(T1, T2)[index % 2]) for index in range(40)]
    jobs = ih.unique_jobs(jobs)
    expected = dict(zip(map(ih.job_key, jobs), ih.host_names(jobs), strict=True))
    assert len(set(expected.values())) == len(jobs)
    for seed in range(5):
        shuffled = list(jobs)
        random.Random(seed).shuffle(shuffled)
        assert dict(zip(map(ih.job_key, shuffled), ih.host_names(shuffled), strict=True)) == expected


def test_host_names_id_style_and_repeats():
    jobs = [job(1, "A", "scim.1"), job(1, "A", "scim.1", tenant=T2), job(2, "B", "scim.2")]
    assert ih.host_names(jobs, "id") == [
        "%s__scim.1__%s" % (sp_id(1), T1), "%s__scim.1__%s" % (sp_id(1), T2), "%s__scim.2" % sp_id(2)]
    repeated = "app_one__%s__scim.0001__%s" % (sp_id(1), T1)
    assert ih.host_names([job(), job()]) == [repeated, repeated + "__2"]
    with pytest.raises(ih.InputError, match="hostnames 'x' is not known"):
        ih.host_names([], "x")


def test_unique_jobs_keeps_the_first():
    first = job(status="Quarantine")
    assert ih.unique_jobs([first, job(job_id="SCIM.0001".lower()), job(job_id="other")]) == [first, job(job_id="other")]


# ---- filters, variables, groups ---------------------------------------------------------------------------------------

def test_filter_jobs_case_insensitive():
    jobs = [job(job_id="a", template="scim", status="Quarantine"), job(job_id="b", template="AD2AADProvisioning", status="Active"),
            job(job_id="c", template=None, status=None)]
    assert [j["job_id"] for j in JobFilter.from_lists().select(jobs)] == ["a", "b", "c"]
    assert [j["job_id"] for j in JobFilter.from_lists(["SCIM", " ad2aadprovisioning "]).select(jobs)] == ["a", "b"]
    assert [j["job_id"] for j in JobFilter.from_lists([], ["quarantine"]).select(jobs)] == ["a"]
    assert [j["job_id"] for j in JobFilter.from_lists(["scim"], ["Active"]).select(jobs)] == []


def test_host_vars_and_condition_groups():
    raw = {"id": "scim.1", "templateId": "scim", "schedule": {"state": "Active"},
           "status": {"code": "Quarantine", "quarantine": {"reason": "EncounteredQuarantineException"},
                      "lastExecution": {"state": "Failed"}, "countSuccessiveCompleteFailures": 3}}
    data = parse_job(raw, {"id": sp_id(1), "displayName": "App", "appId": "a1"}).to_dict()
    data["tenant_id"] = T1
    variables = ih.host_vars(data)
    assert set(variables) == {"entra_sync_" + key for key in data} | {
        "entra_sync_conditions", "entra_sync_remedy", "entra_sync_remedy_reason", "entra_sync_disables_at"}
    assert variables["entra_sync_tenant_id"] == T1
    # EncounteredQuarantineException without an error: a restart, which helps only when the fault was transient.
    assert variables["entra_sync_remedy"] == "restart" and "transient" in variables["entra_sync_remedy_reason"]
    assert variables["entra_sync_disables_at"] is None
    assert variables["entra_sync_status_code"] == "Quarantine"
    assert variables["entra_sync_quarantine_reason"] == "EncounteredQuarantineException"
    assert variables["entra_sync_count_successive_complete_failures"] == 3
    assert variables["entra_sync_conditions"] == ["quarantined", "failed"]
    assert ih.condition_groups(data) == ["quarantined", "failed"]
    assert ih.condition_groups(job(status="Paused", last_execution_state="EntryLevelErrors")) == ["entry_errors", "paused"]
    assert ih.condition_groups(job()) == []
    assert ih.host_vars({"job_id": "x"})["entra_sync_tenant_id"] is None


def test_host_vars_carry_the_quarantine_error():
    raw = {"id": "scim.1", "templateId": "scim", "schedule": {"state": "Active"},
           "status": {"code": "Quarantine", "quarantine": {"reason": "", "error": {
               "code": "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable", "message": "401 from the app",
               "tenantActionable": True}}}}
    data = dict(parse_job(raw, {"id": sp_id(1), "displayName": "App"}).to_dict(), tenant_id=T1)
    variables = ih.host_vars(data)
    assert variables["entra_sync_quarantine_reason"] is None
    assert variables["entra_sync_quarantine_error_code"] == "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable"
    assert variables["entra_sync_quarantine_error_message"] == "401 from the app"
    assert variables["entra_sync_quarantine_tenant_actionable"] is True
    assert variables["entra_sync_quarantine"]["error"]["code"] == variables["entra_sync_quarantine_error_code"]
    assert variables["entra_sync_remedy"] == "fix_target" and "connectivity" in variables["entra_sync_remedy_reason"]
    healthy = ih.host_vars(dict(parse_job({"id": "scim.2", "status": {"code": "Active"}}, {"id": sp_id(2)}).to_dict(), tenant_id=T1))
    assert [healthy["entra_sync_quarantine_" + key] for key in ("error_code", "error_message", "tenant_actionable")] == [None, None, None]
    assert (healthy["entra_sync_remedy"], healthy["entra_sync_disables_at"]) == ("none", None)


@pytest.mark.parametrize("extra, expected", [
    ({"status": "Quarantine"}, ["quarantined"]),
    ({"status": "quarantine", "last_execution_state": "failed"}, ["quarantined", "failed"]),  # any casing, as the modules read it
    ({"status": "Active", "schedule_state": "PAUSED"}, ["paused"]),
    ({"status": None, "schedule_state": None, "last_execution_state": None}, []),
])
def test_conditions_are_the_ones_sync_job_restart_matches(extra, expected):
    data = job(**extra)
    assert ih.job_conditions(data) == expected == list(matching_conditions(job_from_dict(data)))


def test_describe_read_error():
    line = ih.describe_read_error({"service_principal_id": sp_id(2), "message": "HTTP 500"}, T1)
    assert sp_id(2) in line and T1 in line and "HTTP 500" in line


# ---- tenants -----------------------------------------------------------------------------------------------------

def test_parse_tenants():
    assert ih.parse_tenants(None) == []
    assert ih.parse_tenants([]) == []
    assert ih.parse_tenants([T1, {"tenant_id": " contoso.onmicrosoft.com ", "client_id": "c", "client_secret": None}]) == [
        {"tenant_id": T1}, {"tenant_id": "contoso.onmicrosoft.com", "client_id": "c"}]


@pytest.mark.parametrize("value, message", [
    (T1, "must be a list"),
    ([5], r"tenants\[0\] must be a tenant id"),
    ([{"client_id": "x"}], r"tenants\[0\] needs a tenant_id"),
    ([{"tenant_id": T1, "region": "x"}], r"tenants\[0\] has unknown keys region"),
    ([T1, T1.upper()], "lists %s twice" % T1.upper()),
])
def test_parse_tenants_refuses(value, message):
    with pytest.raises(ih.InputError, match=message):
        ih.parse_tenants(value)


def test_access_token_with_several_tenants():
    ih.check_shared_access_token([{"tenant_id": T1}], "tok")
    ih.check_shared_access_token([{"tenant_id": T1}, {"tenant_id": T2}], None)
    ih.check_shared_access_token([{"tenant_id": T1, "access_token": "a"}, {"tenant_id": T2, "access_token": "b"}], "tok")
    with pytest.raises(ih.InputError, match="valid for one tenant only.*%s" % T2):
        ih.check_shared_access_token([{"tenant_id": T1, "access_token": "a"}, {"tenant_id": T2}], "tok")


def test_tenant_get_option():
    get = ih.tenant_get_option({"tenant_id": "shared", "timeout": 5}.get, {"tenant_id": T1})
    assert get("tenant_id") == T1
    assert get("timeout") == 5


# ---- unsafe text ---------------------------------------------------------------------------------------------------

def test_make_unsafe_marks_template_like_text_only():
    value = sync_jobs.make_unsafe({"name": "{{ x }}", "plain": "App", "n": 3, "nested": [{"m": "{% raw %}"}], "{{k}}": None})
    templar = Templar(loader=DataLoader(), variables={"x": "EXPANDED"})
    assert templar.template(trust_as_template("{{ x }}")) == "EXPANDED"  # the control: trusted text is templated
    assert templar.template(value["name"]) == "{{ x }}"
    assert templar.template(value["nested"][0]["m"]) == "{% raw %}"
    assert value["plain"] == "App" and type(value["plain"]) is str  # pylint: disable=unidiomatic-typecheck
    assert value["n"] == 3
    assert value["nested"][0]["m"] == "{% raw %}"
    assert "{{k}}" in value


# ---- documentation -------------------------------------------------------------------------------------------------

def test_plugins_fragment_env_matches_the_module_fallbacks():
    """Ansible uses the last env entry that is set: each list is ENV_FALLBACKS reversed, so the first name wins for both."""
    plugins = yaml.safe_load(ModuleDocFragment.PLUGINS)["options"]
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(plugins) == set(ENV_FALLBACKS)
    assert set(plugins) <= set(documented)
    for name, entry in plugins.items():
        assert [env["name"] for env in entry["env"]] == list(reversed(ENV_FALLBACKS[name])), name


def test_plugin_documentation_parses():
    doc = yaml.safe_load(sync_jobs.DOCUMENTATION)
    assert doc["name"] == "sync_jobs"
    assert doc["options"]["plugin"]["choices"] == ["entra.sync.sync_jobs"]
    assert {"entra.sync.graph", "entra.sync.graph.plugins", "constructed", "inventory_cache"} <= set(doc["extends_documentation_fragment"])
    for example in sync_jobs.EXAMPLES.split("\n\n"):
        assert yaml.safe_load(example)["plugin"] == "entra.sync.sync_jobs"


@pytest.mark.parametrize("path, ok", [
    ("prod.sync_jobs.yml", True), ("sync_jobs.yaml", True), ("x.sync_jobs.json", False), ("jobs.yml", False),
])
def test_verify_file(tmp_path, path, ok):
    target = tmp_path / path
    target.write_text("plugin: entra.sync.sync_jobs\n")
    assert sync_jobs.InventoryModule().verify_file(str(target)) is ok


# ---- parse() over a fake scan ------------------------------------------------------------------------------------

class FakeCache(dict):
    """Stands for the cache plugin adjudicator: a dict."""


class Harness:
    """An InventoryModule whose options come from a dict and whose Graph scan is a fake."""

    def __init__(self, monkeypatch, options, scans):
        self.calls = []
        self.plugin = sync_jobs.InventoryModule()
        defaults = {"tenants": [], "template_ids": [], "status_codes": [], "service_principal_filter": None, "concurrency": 10,
                    "hostnames": "display_name", "condition_groups": True, "strict": False, "host_per": "job", "compose": {}, "groups": {},
                    "keyed_groups": [], "cache": False, "leading_separator": True, "use_extra_vars": False,
                    "tenant_id": T1, "client_id": "app", "client_secret": "s3cret", "auth_method": "auto", "cloud": "global",
                    "graph_endpoint": "https://127.0.0.1:8443", "validate_certs": True, "timeout": 30, "max_retries": 0}
        defaults.update(options)
        self.options = defaults
        self.plugin._cache = FakeCache()
        monkeypatch.setattr(self.plugin, "_read_config_data", lambda path: None)
        monkeypatch.setattr(self.plugin, "get_option", lambda name, hostvars=None: self.options.get(name))
        monkeypatch.setattr(self.plugin, "get_option_and_origin", lambda name, hostvars=None: (self.options.get(name), "Direct"))
        monkeypatch.setattr(self.plugin, "get_cache_key", lambda path: "key:" + path)

        def fake_scan(api, job_filter, sp_filter, concurrency):
            tenant = api.client.settings.tenant_id
            self.calls.append((tenant, sp_filter, concurrency))
            return scans[tenant]()

        monkeypatch.setattr(sync_jobs, "scan_tenant", fake_scan)

    def parse(self, cache=True):
        self.plugin.parse(InventoryData(), None, "/src/x.sync_jobs.yml", cache=cache)
        return self.plugin.inventory

    def warnings(self, monkeypatch):
        seen = []
        monkeypatch.setattr(self.plugin.display, "warning", lambda msg, *a, **k: seen.append(msg))
        return seen


def scan_of(*jobs, errors=(), read=None):
    def make():
        parsed = [parse_job({"id": j, "templateId": t, "status": {"code": c}, "schedule": {"state": "Active"}},
                            {"id": sp_id(s), "displayName": "App %d" % s}) for s, j, t, c in jobs]
        return Scan(jobs=parsed, errors=[dict(e) for e in errors], service_principals_read=read or len({entry[0] for entry in jobs}) + len(errors))
    return make


def test_parse_hosts_groups_and_keyed_groups(monkeypatch):
    harness = Harness(monkeypatch, {"keyed_groups": [{"key": trust_as_template("entra_sync_template_id"), "prefix": "template"}],
                                    "compose": {"label": trust_as_template("entra_sync_job_id ~ '@' ~ entra_sync_status_code")},
                                    "strict": True},
                      {T1: scan_of((1, "scim.1", "scim", "Quarantine"), (2, "aws.2", "aws", "Active"))})
    inventory = harness.parse()
    assert set(inventory.hosts) == {"app_1__scim.1", "app_2__aws.2"}
    host = inventory.get_host("app_1__scim.1").get_vars()
    assert host["entra_sync_tenant_id"] == T1 and host["entra_sync_status_code"] == "Quarantine"
    assert host["label"] == "scim.1@Quarantine"
    assert [h.name for h in inventory.groups["quarantined"].get_hosts()] == ["app_1__scim.1"]
    assert [h.name for h in inventory.groups["template_aws"].get_hosts()] == ["app_2__aws.2"]
    assert inventory.groups["all"].get_vars()["entra_sync_inventory_errors"] == []


def test_parse_cache_holds_unfiltered_jobs_and_skips_graph(monkeypatch):
    harness = Harness(monkeypatch, {"cache": True, "service_principal_filter": "startswith(displayName,'A')"},
                      {T1: scan_of((1, "scim.1", "scim", "Quarantine"), (2, "aws.2", "aws", "Active"))})
    harness.parse()
    assert len(harness.calls) == 1
    harness.options["status_codes"] = ["quarantine"]
    inventory = harness.parse()
    assert len(harness.calls) == 1  # from the cache
    assert set(inventory.hosts) == {"app_1__scim.1"}
    harness.parse(cache=False)  # --flush-cache / refresh_inventory
    assert len(harness.calls) == 2
    harness.options["service_principal_filter"] = "startswith(displayName,'B')"  # another set of service principals
    harness.parse()
    assert len(harness.calls) == 3


def test_parse_read_errors_warn_keep_other_hosts_and_are_not_cached(monkeypatch):
    error = {"service_principal_id": sp_id(9), "message": "Graph answered 500"}
    harness = Harness(monkeypatch, {"cache": True, "tenants": [T1, T2]},
                      {T1: scan_of((1, "scim.1", "scim", "Active"), errors=[error]), T2: scan_of((2, "scim.2", "scim", "Paused"))})
    warnings = harness.warnings(monkeypatch)
    inventory = harness.parse()
    assert set(inventory.hosts) == {"app_1__scim.1", "app_2__scim.2"}
    assert inventory.get_host("app_2__scim.2").get_vars()["entra_sync_tenant_id"] == T2
    assert len(warnings) == 1 and sp_id(9) in warnings[0] and T1 in warnings[0]
    assert inventory.groups["all"].get_vars()["entra_sync_inventory_errors"] == [dict(error, tenant_id=T1)]
    assert list(harness.plugin._cache["key:/src/x.sync_jobs.yml"]["tenants"]) == [T2]  # pylint: disable=protected-access
    harness.parse()
    assert [call[0] for call in harness.calls] == [T1, T2, T1]  # only the incomplete tenant is read again


def test_parse_fails_when_no_service_principal_could_be_read(monkeypatch):
    error = {"service_principal_id": sp_id(9), "message": "401: needs Synchronization.ReadWrite.All"}
    harness = Harness(monkeypatch, {}, {T1: scan_of(errors=[error])})
    with pytest.raises(AnsibleParserError, match="No service principal's jobs of tenant %s could be read.*Synchronization" % T1):
        harness.parse()


@pytest.mark.parametrize("options, message", [
    ({"client_secret": None}, "No credential was given"),
    ({"concurrency": 0}, "concurrency 0 is out of range"),
    ({"tenants": [T1, {"tenant_id": T2, "bad": 1}]}, r"tenants\[1\] has unknown keys bad"),
    ({"tenants": [T1, "not a tenant"]}, "tenant not a tenant: tenant_id 'not a tenant' is neither"),
    ({"graph_endpoint": "http://x"}, "graph_endpoint 'http://x' must be an https:// URL"),
])
def test_parse_option_errors_before_any_request(monkeypatch, options, message):
    harness = Harness(monkeypatch, options, {})
    with pytest.raises(AnsibleParserError, match=message) as caught:
        harness.parse()
    assert "s3cret" not in str(caught.value)
    assert harness.calls == []


def test_parse_host_vars_carry_the_quarantine_error(monkeypatch):
    def scan():
        raw = {"id": "scim.1", "templateId": "scim", "schedule": {"state": "Active"},
               "status": {"code": "Quarantine", "quarantine": {"reason": None, "error": {"code": "TooManyDeletes", "message": "500 deletes"}}}}
        return Scan(jobs=[parse_job(raw, {"id": sp_id(1), "displayName": "App 1"})], errors=[], service_principals_read=1)

    inventory = Harness(monkeypatch, {}, {T1: scan}).parse()
    host = inventory.get_host("app_1__scim.1").get_vars()
    assert host["entra_sync_quarantine_reason"] is None
    assert (host["entra_sync_quarantine_error_code"], host["entra_sync_quarantine_error_message"]) == ("TooManyDeletes", "500 deletes")
    assert host["entra_sync_quarantine_tenant_actionable"] is None

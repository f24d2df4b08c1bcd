# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet run over tenant hosts: each host's tenant, a failed tenant, the report with a section per tenant, and
merging the reports of sliced runs into the report of one unsliced run."""

import copy
import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.entra.sync.plugins.filter import fleet_report as filters
from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._fleet.fleet_inputs import HOST_TENANT_VARS, check_fleet_inputs, check_host_tenant
from ansible_collections.entra.sync.plugins.module_utils._fleet.fleet_report import (
    after_label,
    assemble_report,
    first_failed_tenant,
    merge_reports,
    quarantined_again,
    tenant_failure,
)
from ansible_collections.entra.sync.plugins.module_utils._settings.options import graph_argspec

PLAYBOOKS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "playbooks")
# Options every tenant of a run shares (the cloud, the endpoints, TLS and retries): read from the environment.
RUN_WIDE_OPTIONS = {"cloud", "graph_endpoint", "authority_host", "ca_path", "validate_certs", "timeout", "max_retries"}
SUMMARY = {"restarted": 0, "would_restart": 0, "skipped": 0, "failed": 0, "unknown": 0, "total": 0}


def _job(tenant, number, action):
    return {"tenant_id": tenant, "service_principal_id": "sp-%s" % number, "job_id": "scim.%s" % number, "action": action,
            "reason": "why %s" % number}


def _part(tenant, actions, host=None, **fields):
    results = [_job(tenant, "%s%d" % (tenant, index), action) for index, action in enumerate(actions)]
    summary = dict(SUMMARY)
    for result in results:
        summary[result["action"]] += 1
        summary["total"] += 1
    part = {
        "tenant_id": tenant, "host": host or "host-" + tenant, "error": "", "stopped": "", "stopped_by": "",
        "jobs_found": len(results), "summary": summary,
        "counts_before": {"scim": {"Quarantine": len(results)}}, "counts_after": {"scim": {"Active": len(results)}},
        "failed_or_unknown": [result for result in results if result["action"] in ("failed", "unknown")],
        "touched": [result for action in ("restarted", "failed", "unknown") for result in results if result["action"] == action],
        "results": results,
    }
    part.update(fields)
    return part


RUN = {"form": "tenant_hosts", "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:05:00Z",
       "restart_if": ["quarantined"], "reset_scope": []}


# ---- which tenant failed ----------------------------------------------------------------------------------------

def test_tenant_failure_is_an_error_its_own_stop_or_failed_jobs_never_a_stop_by_another():
    assert tenant_failure({"error": "Sign in: invalid_client", "results": []}) == "Sign in: invalid_client"
    assert tenant_failure({"stopped": "canary in tenant a did not recover"}) == "canary in tenant a did not recover"
    assert tenant_failure({"stopped": "stopped before its canary: tenant b failed", "stopped_by": "tenant b failed"}) == ""
    assert tenant_failure({"results": [_job("a", 1, "restarted"), _job("a", 2, "unknown"), _job("a", 3, "failed")]}) == \
        "2 jobs failed or have an unknown outcome"
    assert tenant_failure({"results": [_job("a", 1, "restarted"), "junk"]}) == ""
    with pytest.raises(AnsibleFilterError):
        filters.tenant_failure("a")


def test_first_failed_tenant_reads_the_other_hosts_and_in_the_list_form_the_earlier_tenants():
    others = [{"tenant_id": "c", "failure": "boom"}, {"tenant_id": "b", "failure": "Sign in failed"}, {"tenant_id": "d", "failure": ""}]
    assert first_failed_tenant(others, [], "a") == "tenant b failed: Sign in failed"
    assert first_failed_tenant([{"tenant_id": "a", "failure": "own"}], [], "a") == "", "its own failure stops no one here"
    assert first_failed_tenant([], [_job("a", 1, "failed"), _job("b", 2, "restarted")], "b") == \
        "tenant a failed: 1 jobs failed or have an unknown outcome"
    assert first_failed_tenant([], [_job("b", 1, "failed")], "b") == ""
    assert filters.first_failed_tenant(None, None, "a") == ""


# ---- the report ---------------------------------------------------------------------------------------------------

def test_per_host_report_has_a_section_per_tenant_sorted_and_the_totals():
    parts = [_part("c", ["restarted", "skipped"]), _part("a", ["restarted", "failed", "unknown"]),
             _part("b", [], error="Report a sign-in failure: invalid_client", jobs_found="0")]
    report = assemble_report(parts, RUN)
    assert report["form"] == "tenant_hosts"
    assert [section["tenant_id"] for section in report["tenants"]] == ["a", "b", "c"]
    a, b, c = report["tenants"]
    assert (a["outcome"], a["failure"]) == ("failed", "2 jobs failed or have an unknown outcome")
    assert (b["outcome"], b["failure"], b["jobs_found"], b["summary"]) == ("failed", b["error"], 0, SUMMARY)
    assert (c["outcome"], c["failure"], c["host"]) == ("succeeded", "", "host-c")
    assert [entry["job_id"] for entry in a["failed_or_unknown"]] == ["scim.a1", "scim.a2"]
    assert report["failed_tenants"] == ["a", "b"] and report["stopped_tenants"] == []
    assert report["stopped"] == "b: Report a sign-in failure: invalid_client"
    assert report["jobs_found"] == 5
    assert report["summary"] == {"restarted": 2, "would_restart": 0, "skipped": 1, "failed": 1, "unknown": 1, "total": 5}
    assert report["counts_before"] == {"scim": {"Quarantine": 5}} and report["counts_after"] == {"scim": {"Active": 5}}
    # touched: restarted first (tenant by tenant), then failed, then unknown
    assert [(entry["tenant_id"], entry["action"]) for entry in report["touched"]] == [
        ("a", "restarted"), ("c", "restarted"), ("a", "failed"), ("a", "unknown")]
    assert [result["job_id"] for result in report["results"]] == ["scim.a0", "scim.a1", "scim.a2", "scim.c0", "scim.c1"]
    assert [entry["job_id"] for entry in report["failed_or_unknown"]] == ["scim.a1", "scim.a2"]


def test_a_tenant_stopped_by_another_is_stopped_not_failed():
    stop = "stopped before its canary: tenant a failed: boom (entra_sync_stop_on_tenant_failure)"
    report = assemble_report([_part("a", [], error="boom"), _part("b", [], stopped=stop, stopped_by="tenant a failed: boom")], RUN)
    assert [section["outcome"] for section in report["tenants"]] == ["failed", "stopped"]
    assert report["failed_tenants"] == ["a"] and report["stopped_tenants"] == ["b"]
    assert report["stopped"] == "a: boom; b: " + stop


def test_list_form_keeps_its_shape():
    part = _part("", ["restarted", "restarted"], host="localhost", stopped="canary in tenant t2 did not recover")
    report = assemble_report([part], dict(RUN, form="tenant_list", tenant_ids=["t1", "t2"]))
    assert report["form"] == "tenant_list" and report["tenants"] == ["t1", "t2"]
    assert report["stopped"] == "canary in tenant t2 did not recover"
    assert "failed_tenants" not in report and "stopped_tenants" not in report
    assert report["summary"]["restarted"] == 2 and len(report["touched"]) == 2
    errored = assemble_report([_part("", [], host="localhost", error="Find the jobs in the tenant: HTTP 500")], dict(RUN, form="tenant_list"))
    assert errored["stopped"] == "Find the jobs in the tenant: HTTP 500"


def _facts(tenant, actions, **facts):
    """The facts restart_jobs.yml leaves on a tenant host whose jobs got these actions (every job found quarantined)."""
    results = [_job(tenant, "%s%d" % (tenant, index), action) for index, action in enumerate(actions)]
    found = [dict(result, status_code="Quarantine", template_id="scim", service_principal_name="App") for result in results]
    return dict({"entra_sync_tenant_label": tenant, "entra_sync_results": results, "entra_sync_candidates": found,
                 "entra_sync_jobs_found": len(results) + 2, "entra_sync_counts_before": {"scim": {"Quarantine": len(results), "Active": 2}},
                 "entra_sync_after": [], "entra_sync_checked": {"verify_after": False}, "entra_sync_tenant_error": "",
                 "entra_sync_stop_reason": "", "entra_sync_stopped_by": "", "entra_sync_remedy_counts": [], "entra_sync_left_alone": [],
                 "entra_sync_timeline": [{"tenant_id": tenant, "step": "start", "at": "2026-01-01T00:00:00.000000Z"}]}, **facts)


def test_fleet_report_filter_builds_each_hosts_part_and_names_a_host_that_did_not_finish():
    hostvars = {"h1": _facts("t1", ["restarted", "failed"]), "h2": _facts("t2", ["restarted"])}
    report = filters.fleet_report(["h1", "h2"], hostvars, RUN, ["h1"])
    sections = {section["tenant_id"]: section for section in report["tenants"]}
    assert [(tenant, section["outcome"]) for tenant, section in sorted(sections.items())] == [("t1", "failed"), ("t2", "failed")]
    assert "host h2" in sections["t2"]["error"]
    # the part of h1, built from its facts: the healthy jobs discovery found are skipped, the restarted counted as lifted
    assert sections["t1"]["summary"] == {"restarted": 1, "would_restart": 0, "skipped": 2, "failed": 1, "unknown": 0, "total": 4}
    assert sections["t1"]["counts_after"] == {"scim": {"Active": 2, "Quarantine": 1, "restarted (quarantine lifted)": 1}}
    assert sections["t1"]["after_source"] == "restart_results"
    assert [entry["action"] for entry in report["touched"]] == ["restarted", "failed"]
    assert report["touched"][0]["service_principal_name"] == "App"
    assert [entry["job_id"] for entry in report["failed_or_unknown"]] == ["scim.t11"]
    every_host = filters.fleet_report(["h1", "h2"], hostvars, RUN)
    assert [section["outcome"] for section in every_host["tenants"]] == ["failed", "succeeded"]
    with pytest.raises(AnsibleFilterError):
        filters.fleet_report([], {}, None)


# ---- what to do: the jobs left to a person -------------------------------------------------------------------------

def _left(tenant, number, remedy, disables_at):
    return {"tenant_id": tenant, "service_principal_id": "sp-%s" % number, "service_principal_name": "App %s" % number,
            "job_id": "scim.%s" % number, "template_id": "scim", "status_code": "Quarantine", "quarantine_reason": "TooManyDeletes",
            "quarantine_error_code": None, "remedy": remedy, "remedy_reason": "what to do %s" % number, "disables_at": disables_at,
            "status_read_at": "2026-01-01T00:00:00Z", "quarantine": {"reason": "TooManyDeletes"}}


TO_DO_PARTS = [
    _part("a", ["restarted"], to_do=[_left("a", 1, "credentials", None), _left("a", 2, "approve_deletes", "2026-01-20T00:00:00Z")],
          remedy_counts=[{"restart": 1, "credentials": 1, "approve_deletes": 1, "support": 0}]),
    _part("b", [], to_do=[_left("b", 3, "support", "2026-01-07T00:05:00Z"), _left("b", 4, "clean_up_errors", None)],
          remedy_counts=[{"support": 1, "clean_up_errors": 1}, {"credentials": 2}]),
]


def test_the_report_counts_quarantines_by_remedy_and_lists_what_to_do_soonest_first():
    report = assemble_report(copy.deepcopy(TO_DO_PARTS), RUN)
    assert report["remedy_counts"] == {"restart": 1, "credentials": 3, "fix_target": 0, "approve_deletes": 1, "support": 1, "clean_up_errors": 1}
    assert [section["remedy_counts"]["credentials"] for section in report["tenants"]] == [1, 2]
    assert [(entry["job_id"], entry["disables_soon"]) for entry in report["to_do"]] == [
        ("scim.3", True), ("scim.2", False), ("scim.1", False), ("scim.4", False)]
    assert set(report["to_do"][0]) == {"tenant_id", "service_principal_id", "service_principal_name", "job_id", "template_id", "status_code",
                                       "quarantine_reason", "quarantine_error_code", "remedy", "remedy_reason", "disables_at", "disables_soon"}
    assert report["restart_remedies"] is None and assemble_report([], dict(RUN, restart_remedies=["restart"]))["restart_remedies"] == ["restart"]
    # Within 7 days of the run's end (00:05 on 1 January): 7 January 00:05 is, 20 January is not.
    assert assemble_report([], RUN)["to_do"] == [] and assemble_report([], RUN)["remedy_counts"]["support"] == 0


def test_merged_slices_keep_what_to_do():
    whole = assemble_report(copy.deepcopy(TO_DO_PARTS), RUN)
    merged = merge_reports([assemble_report([copy.deepcopy(part)], RUN) for part in TO_DO_PARTS], ["s1", "s2"])
    assert merged["to_do"] == whole["to_do"] and merged["remedy_counts"] == whole["remedy_counts"]


# ---- where the counts after come from, and the jobs quarantined again ---------------------------------------------

@pytest.mark.parametrize("sources, run_source", [
    ([None, None], "restart_results"),                         # a part without it (a host that left no part)
    (["restart_results", "restart_results"], "restart_results"),
    (["read_again", "read_again"], "read_again"),
    (["read_again", "restart_results"], "mixed"),              # one tenant read again, the other not
    (["mixed", "read_again"], "mixed"),
])
def test_the_report_says_what_its_counts_after_rest_on_for_the_run_and_each_tenant(sources, run_source):
    parts = [_part(tenant, ["restarted"], **({"after_source": source} if source else {})) for tenant, source in zip("ab", sources, strict=True)]
    report = assemble_report(parts, RUN)
    assert report["after_source"] == run_source
    assert [section["after_source"] for section in report["tenants"]] == [source or "restart_results" for source in sources]
    # the slices of a run that differ: the merged report says so, each tenant keeps its own
    merged = merge_reports(_sliced([[parts[0]], [parts[1]]]), ["s1", "s2"])
    assert merged["after_source"] == run_source and merged["tenants"] == report["tenants"]
    listed = assemble_report([dict(parts[0], tenant_id="", host="localhost")], dict(RUN, form="tenant_list"))
    assert listed["after_source"] == (sources[0] or "restart_results")


def test_a_slice_report_written_before_after_source_merges_as_not_read_again():
    old, new = _sliced([[_part("a", ["restarted"])], [_part("b", ["restarted"], after_source="read_again")]])
    del old["after_source"], old["tenants"][0]["after_source"], old["quarantined_again"]
    merged = merge_reports([old, new], ["old", "new"])
    assert merged["after_source"] == "mixed" and [section["after_source"] for section in merged["tenants"]] == ["restart_results", "read_again"]
    assert merge_reports([old], ["old"])["after_source"] == "restart_results"


@pytest.mark.parametrize("source, words", [
    ("restart_results", "expected after the restarts (not read again)"),
    ("read_again", "read again after the restarts"),
    ("mixed", "read again for some jobs or tenants, expected after the restarts (not read again) for the others"),
    (None, "expected after the restarts (not read again)"),
    ("", "expected after the restarts (not read again)"),
])
def test_after_label(source, words):
    assert after_label(source) == words == filters.after_label(source)


def _read(tenant, number, status, remedy, disables_at=None):
    return dict(_left(tenant, number, remedy, disables_at), status_code=status)


def test_quarantined_again_lists_the_restarted_jobs_read_quarantined():
    results = [_job("a", 1, "restarted"), _job("a", 2, "restarted"), _job("a", 3, "unknown"), _job("a", 4, "restarted")]
    read = [_read("a", 1, "Quarantine", "credentials"), _read("a", 2, "Active", "none"), _read("a", 3, "Quarantine", "support"),
            dict(_read("a", 4, "Quarantine", "fix_target"), tenant_id=None), _read("a", 9, "Quarantine", "support"), "junk"]
    again = quarantined_again(read, results)
    # 2 is healthy, 3's restart is of unknown outcome (failed_or_unknown lists it), 9 was not restarted
    assert [entry["job_id"] for entry in again] == ["scim.1", "scim.4"]
    assert set(again[0]) == {"tenant_id", "service_principal_id", "service_principal_name", "job_id", "template_id", "status_code",
                             "quarantine_reason", "quarantine_error_code", "remedy", "remedy_reason", "disables_at"}
    assert quarantined_again([], results) == [] and quarantined_again(None, None) == []
    assert filters.quarantined_again(read, results) == again
    # a job read by its ids carries no service principal name: discovery's does
    unnamed = [dict(_read("a", 1, "Quarantine", "credentials"), service_principal_name=None)]
    assert quarantined_again(unnamed, results)[0]["service_principal_name"] is None
    assert filters.quarantined_again(unnamed, results, [_left("a", 1, "credentials", None)])[0]["service_principal_name"] == "App 1"


AGAIN_PARTS = [
    _part("a", ["restarted"], after_source="read_again", quarantined_again=[
        _read("a", 1, "Quarantine", "support", "2026-01-20T00:00:00Z"), _read("a", 2, "Quarantine", "credentials", "2026-01-25T00:00:00Z")]),
    _part("b", ["restarted"], after_source="read_again", quarantined_again=[
        _read("b", 3, "Quarantine", "credentials", "2026-01-03T00:00:00Z"), _read("b", 4, "Quarantine", "restart", None)]),
]


def test_the_report_lists_the_jobs_quarantined_again_by_remedy_then_soonest_deadline():
    report = assemble_report(copy.deepcopy(AGAIN_PARTS), RUN)
    assert [(entry["remedy"], entry["job_id"], entry["disables_soon"]) for entry in report["quarantined_again"]] == [
        ("restart", "scim.4", False), ("credentials", "scim.3", True), ("credentials", "scim.2", False), ("support", "scim.1", False)]
    merged = merge_reports(_sliced([[part] for part in copy.deepcopy(AGAIN_PARTS)]), ["s1", "s2"])
    assert merged["quarantined_again"] == report["quarantined_again"]
    assert assemble_report([_part("a", [])], RUN)["quarantined_again"] == []


# ---- merging slices -------------------------------------------------------------------------------------------------

def _sliced(groups):
    """The report of each slice, each with its own times."""
    return [assemble_report([copy.deepcopy(part) for part in group], dict(RUN, started_at="2026-01-01T00:0%dZ" % index,
                                                                          finished_at="2026-01-01T01:0%dZ" % index))
            for index, group in enumerate(groups)]


def test_merged_slices_equal_the_unsliced_report_apart_from_times():
    a, b, c, d = (_part("a", ["restarted", "failed"]), _part("b", ["skipped"], error="boom"),
                  _part("c", ["unknown", "restarted"]), _part("d", ["restarted"]))
    whole = assemble_report([c, a, d, b], RUN)
    merged = merge_reports(_sliced([[d, a], [c], [b]]), ["s1", "s2", "s3"])
    times = ("started_at", "finished_at")
    assert {k: v for k, v in merged.items() if k not in times} == {k: v for k, v in whole.items() if k not in times}
    assert (merged["started_at"], merged["finished_at"]) == ("2026-01-01T00:00Z", "2026-01-01T01:02Z")
    assert merge_reports(_sliced([[a, b, c, d]]), ["one"])["tenants"] == whole["tenants"]


def test_the_timeline_keeps_each_tenants_steps_and_the_merged_run_its_first_start_and_last_report():
    def steps(tenant, *seconds):
        return [{"tenant_id": tenant, "step": "step %d" % index, "at": "2026-01-01T00:00:%02dZ" % second} for index, second in enumerate(seconds)]

    def run_events(start, report):
        return [{"tenant_id": "", "step": "start", "at": start}, {"tenant_id": "", "step": "report", "at": report}]

    a, b = _part("a", ["restarted"], timeline=steps("a", 1, 2)), _part("b", ["skipped"], timeline=steps("b", 3))
    whole = assemble_report([b, a], dict(RUN, timeline=run_events("2026-01-01T00:00:00Z", "2026-01-01T00:00:09Z")))
    assert whole["timeline"] == run_events("2026-01-01T00:00:00Z", "2026-01-01T00:00:09Z") + steps("a", 1, 2) + steps("b", 3)
    slices = [assemble_report([a], dict(RUN, timeline=run_events("2026-01-01T00:00:05Z", "2026-01-01T00:00:07Z"))),
              assemble_report([b], dict(RUN, timeline=run_events("2026-01-01T00:00:04Z", "2026-01-01T00:00:06Z")))]
    merged = merge_reports(slices, ["s1", "s2"])
    assert merged["timeline"] == run_events("2026-01-01T00:00:04Z", "2026-01-01T00:00:07Z") + steps("a", 1, 2) + steps("b", 3)
    assert assemble_report([a], RUN)["timeline"] == steps("a", 1, 2), "a run without its own events"


@pytest.mark.parametrize("reports, words", [
    ([], "entra_sync_merge_reports is empty"),
    (["junk"], "s1 is not the report of a run over tenant hosts"),
    ([assemble_report([_part("", [])], dict(RUN, form="tenant_list"))], "entra_sync_tenants list"),
    (_sliced([[_part("a", [])], [_part("a", ["restarted"])]]), "tenant a is in s1 and in s2"),
    (_sliced([[_part("a", [])]]) + [assemble_report([_part("b", [])], dict(RUN, restart_if=["always"]))], "different restart_if"),
])
def test_merge_refuses_what_is_not_the_slices_of_one_run(reports, words):
    with pytest.raises(InputError) as info:
        merge_reports(reports, ["s1", "s2"])
    assert words in str(info.value)


def test_merge_refuses_an_entry_of_a_tenant_without_a_section_and_the_filter_names_itself():
    report = _sliced([[_part("a", ["restarted"])]])[0]
    report["results"].append(_job("zz", 1, "restarted"))
    with pytest.raises(AnsibleFilterError) as info:
        filters.merge_reports([report], ["r.json"])
    assert "entra.sync.merge_reports: r.json: an entry of results names tenant zz" in str(info.value)
    with pytest.raises(AnsibleFilterError):
        filters.merge_reports("r.json")
    assert filters.merge_reports(_sliced([[_part("a", [])]]))["tenants"][0]["tenant_id"] == "a"


# ---- a tenant host's tenant --------------------------------------------------------------------------------------------

def _vars(**given):
    values = dict.fromkeys(HOST_TENANT_VARS, "")
    values.update(given)
    return values


def test_host_tenant_from_its_variables_tenant_id_defaults_to_the_host_name():
    assert check_host_tenant({"host": "contoso.onmicrosoft.com", "vars": _vars()}) == {"tenant_id": "contoso.onmicrosoft.com"}
    tenant = check_host_tenant({"host": "fabrikam", "vars": _vars(
        tenant_id=" 11111111-1111-1111-1111-111111111111 ", client_id="app", client_certificate_path="/c.pem",
        client_certificate_password="pw", auth_method="certificate", token_cache_path="/cache.json", tenant_access_token="tok")})
    assert tenant == {"tenant_id": "11111111-1111-1111-1111-111111111111", "client_id": "app", "client_certificate_path": "/c.pem",
                      "client_certificate_password": "pw", "auth_method": "certificate", "token_cache_path": "/cache.json",
                      "access_token": "tok"}
    assert filters.host_tenant(_vars(client_secret="s"), "t")["client_secret"] == "s"


@pytest.mark.parametrize("given, words", [
    ({"client_id": 5}, "host t1: entra_sync_client_id must be a string, got int"),
    ({"managed_identity": True}, "host t1: entra_sync_managed_identity must be a string, got bool"),
    ({"client_secret": "   "}, "host t1: entra_sync_client_secret must be a string"),
    ({"auth_method": "password"}, "host t1: entra_sync_auth_method must be one of auto, client_secret"),
])
def test_bad_host_variables_name_the_host_and_the_variable(given, words):
    with pytest.raises(InputError) as info:
        check_host_tenant({"host": "t1", "vars": _vars(**given)})
    assert words in str(info.value)
    with pytest.raises(AnsibleFilterError) as filtered:
        filters.host_tenant(_vars(**given), "t1")
    assert "nothing was sent" in str(filtered.value)
    with pytest.raises(InputError):
        check_host_tenant({"host": "t1"})


def test_fleet_inputs_of_a_tenant_host_keep_no_secret_and_refuse_a_list_or_jobs_without_tenant():
    host = {"host": "t1", "vars": _vars(client_secret="s3cret", tenant_access_token="tok", client_id="app")}
    checked = check_fleet_inputs({"host_tenant": host, "tenants": [], "stop_on_tenant_failure": "yes"}, {})
    assert checked["tenants"] == [{"tenant_id": "t1", "client_id": "app"}]
    assert checked["stop_on_tenant_failure"] is True
    assert check_fleet_inputs({"host_tenant": None, "tenants": []}, {"AZURE_TENANT_ID": "env-t"})["tenants"] == [{"tenant_id": "env-t"}]
    jobs = [{"service_principal_id": "00000000-0000-4000-8000-000000000001", "job_id": "scim.1"}]
    for inputs, words in (
        ({"host_tenant": host, "tenants": ["other"]}, "host t1 is a tenant host: give the tenants as inventory hosts or as entra_sync_tenants"),
        ({"host_tenant": host, "jobs": jobs}, "entra_sync_jobs[0] needs its tenant_id when the tenants are inventory hosts"),
        ({"stop_on_tenant_failure": "maybe"}, "entra_sync_stop_on_tenant_failure must be true or false"),
        ({"host_tenant": {"host": "t1", "vars": _vars(client_id=3)}}, "host t1: entra_sync_client_id"),
    ):
        with pytest.raises(InputError) as info:
            check_fleet_inputs(inputs, {})
        assert words in str(info.value), inputs
    assert check_fleet_inputs({"host_tenant": host, "jobs": [dict(jobs[0], tenant_id="t1")]}, {})["jobs"][0]["tenant_id"] == "t1"


# ---- every credential of a tenant reaches every module -------------------------------------------------------------------

def _tenant_block():
    with open(os.path.join(PLAYBOOKS, "tasks", "restart_tenant.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)[0]


def test_every_per_tenant_option_of_the_modules_is_set_once_for_the_tenant_block():
    defaults = _tenant_block()["module_defaults"]["group/entra.sync.graph"]
    assert set(defaults) == set(graph_argspec()) - RUN_WIDE_OPTIONS
    # each one from the tenant's own entry (the host tenant or the list item), the token from its sign-in when it has none
    for option in defaults:
        assert "entra_sync_tenant.%s" % option in defaults[option], option
    assert set(HOST_TENANT_VARS.values()) == set(defaults), "a tenant host can set each of them, and only them"


def test_the_tenants_sign_in_takes_its_credentials_from_the_block_and_hands_its_token_on_hidden():
    tasks = _tenant_block()["block"]
    sign_in = next(task for task in tasks if "entra.sync.graph_token" in task)
    # every credential comes from the block's module_defaults (the test above), none is set twice
    assert set(sign_in["entra.sync.graph_token"]) == {"auth_method"}
    assert sign_in["no_log"] is True and sign_in["register"] == "entra_sync_sign_in"
    assert "entra_sync_sign_in.access_token" in _tenant_block()["module_defaults"]["group/entra.sync.graph"]["access_token"]
    # its failure is reported by the next task, whose message holds no secret
    report = tasks[tasks.index(sign_in) + 1]
    assert "entra_sync_sign_in.msg" in report["ansible.builtin.fail"]["msg"]

# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Property tests (hypothesis) that complete test_job.py's and test_scope.py's: every pure decision is total over hostile input.

test_job.py already proves parse_job never raises, and test_scope.py that the reset scope round-trips. Here:
- job_from_dict (the fleet playbook's view of a job) never raises, and decides exactly as parse_job does on the same
  job, so the playbook's restart_candidates and the module's pre-check can never disagree; so does the remedy (diagnose);
- decide_restart and decide_state are total: any job, any conditions -> a Decision or an InputError, nothing else, and
  sync_job never starts a job it cannot see is stopped;
- every validator raises only InputError, whatever it is given; an accepted job id is one URL path segment as is;
- scope parsing round-trips from the wire string too; targets dedupe without losing or reordering a job;
- summaries always add up; the fleet filters and the Graph error readers never crash.
"""

from __future__ import annotations

import json
import string

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ansible_collections.entra.sync.plugins.filter.fleet_filters import (
    action_counts,
    job_counts,
    report_entry,
    restart_candidates,
)
from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._graph.client import quote_segment
from ansible_collections.entra.sync.plugins.module_utils._graph.messages import describe_error, error_fields, parse_retry_after
from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import RESTART_CONDITIONS, Decision, decide_restart, decide_state, validate_conditions
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import (
    EXECUTION_STATES,
    QUARANTINE_REASONS,
    SCHEDULE_STATES,
    STATUS_CODES,
    Job,
    job_from_dict,
    parse_job,
)
from ansible_collections.entra.sync.plugins.module_utils._jobs.remedy import REMEDIES, diagnose, diagnose_dict
from ansible_collections.entra.sync.plugins.module_utils._jobs.results import ACTIONS, STATE_ACTIONS, summarize
from ansible_collections.entra.sync.plugins.module_utils._jobs.scope import RESET_SCOPE_FLAGS, build_reset_scope, parse_reset_scope
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import normalize_job_targets, validate_job_id, validate_service_principal_id

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=25,
)


def _spellings(names):
    """Known enum values in odd casing and padding, unknown values, null, empty and blank strings, wrong types."""
    known = st.sampled_from(names)
    return st.one_of(
        known,
        known.map(str.lower),
        known.map(str.upper),
        known.map(lambda name: " %s " % name),
        st.sampled_from([None, "", "   ", "Unknown2025", "quarantined", "0", 0, 1, True, [], {}]),
        st.text(max_size=12),
    )


QUARANTINE_ERRORS = st.fixed_dictionaries({}, optional={
    "code": st.one_of(st.sampled_from(["SystemForCrossDomainIdentityManagementCredentialValidationFailure", "HybridIdentityServiceNoActiveAgents",
                                       "AzureDirectoryServiceServerBusy", "SomeNewCode", ""]), JSON_SCALARS),
    "message": JSON_SCALARS,
    "tenantActionable": st.one_of(st.booleans(), st.sampled_from(["true", "False", ""]), JSON_SCALARS),
})
DATES = st.sampled_from([None, "", "0001-01-01T00:00:00Z", "2024-03-01T10:00:00Z", "2024-03-01T10:00:00.1234567Z", "not a date", 0])


@st.composite
def graph_jobs(draw):
    """Graph synchronizationJob JSON where any field may be missing, null, empty, mis-typed or an unknown enum value."""
    def maybe(strategy):
        return draw(st.one_of(st.just(KeyError), strategy))

    quarantine = draw(st.one_of(
        st.none(), st.just({}), st.just(""),
        st.fixed_dictionaries({}, optional={
            "reason": _spellings(QUARANTINE_REASONS), "currentBegan": DATES, "nextAttempt": DATES, "seriesBegan": DATES,
            "seriesCount": st.one_of(st.integers(-5, 10**12), st.text(max_size=5), st.none()),
            "error": st.one_of(st.none(), JSON_VALUES, QUARANTINE_ERRORS),
        }),
    ))
    last_execution = draw(st.one_of(
        st.none(), st.just({}),
        st.fixed_dictionaries({}, optional={"state": _spellings(EXECUTION_STATES), "timeBegan": DATES, "timeEnded": DATES,
                                            "error": st.one_of(st.none(), JSON_VALUES)}),
    ))
    status = {"code": maybe(_spellings(STATUS_CODES)), "quarantine": maybe(st.just(quarantine)),
              "lastExecution": maybe(st.just(last_execution)),
              "countSuccessiveCompleteFailures": maybe(st.one_of(st.integers(), st.text(max_size=6), st.none(), st.floats())),
              "escrowsPruned": maybe(st.one_of(st.booleans(), st.text(max_size=5), st.none())),
              "troubleshootingUrl": maybe(st.one_of(st.none(), st.just(""), st.text(max_size=10)))}
    job = {"id": maybe(st.one_of(st.none(), st.just(""), st.text(max_size=20))),
           "templateId": maybe(st.one_of(st.none(), st.just(""), st.sampled_from(["scim", "AD2AADProvisioning"]))),
           "schedule": maybe(st.one_of(st.none(), st.fixed_dictionaries({}, optional={"state": _spellings(SCHEDULE_STATES)}))),
           "status": maybe(st.one_of(st.none(), st.just(""), st.just({k: v for k, v in status.items() if v is not KeyError})))}
    return {k: v for k, v in job.items() if v is not KeyError}


CONDITION_LISTS = st.lists(st.sampled_from(RESTART_CONDITIONS), min_size=1, max_size=5)
ANY_CONDITIONS = st.one_of(CONDITION_LISTS, JSON_VALUES, st.lists(st.text(max_size=12), max_size=4))


# ---- status parsing and the restart decision ----------------------------------------------------------------------

@settings(max_examples=120, deadline=None)
@given(raw=graph_jobs(), conditions=CONDITION_LISTS)
def test_the_playbook_and_the_module_decide_alike(raw, conditions):
    """sync_job_info's dict read back by job_from_dict (restart_candidates) decides as the parsed job (the module)."""
    job = parse_job(raw, {"id": "00000000-0000-0000-0000-000000000001"})
    shape = job.to_dict()
    json.dumps(shape)
    again = job_from_dict(json.loads(json.dumps(shape)))  # through JSON, as Ansible passes it between tasks
    for wanted in (conditions, ["quarantined"], ["failed"], ["entry_errors"], ["paused"]):
        direct, via_dict = decide_restart(job, wanted), decide_restart(again, wanted)
        assert (direct.restart, direct.matched) == (via_dict.restart, via_dict.matched), (shape, wanted)
    assert (again.status_code, again.schedule_state, again.quarantine_reason, again.last_execution_state) == \
        (job.status_code, job.schedule_state, job.quarantine_reason, job.last_execution_state)


@settings(max_examples=150, deadline=None)
@given(raw=st.one_of(graph_jobs(), JSON_VALUES), conditions=CONDITION_LISTS)
def test_diagnose_is_total_and_the_dict_diagnoses_alike(raw, conditions):
    """Any job: a remedy of REMEDIES with a one-line reason; sync_job_info's dict read back (the inventory, the fleet
    filters) gets the same answer as the parsed job (the modules, the event source)."""
    job = parse_job(raw)
    diagnosis = diagnose(job, conditions)
    assert diagnosis.remedy in REMEDIES and diagnosis.remedy_reason and "\n" not in diagnosis.remedy_reason
    assert diagnosis.disables_at is None or diagnosis.disables_at.endswith("Z")
    assert diagnose_dict(json.loads(json.dumps(job.to_dict())), conditions) == diagnosis.to_dict()
    if job.awaiting_cleanup:
        assert diagnosis.remedy == "clean_up_errors"


@settings(max_examples=150, deadline=None)
@given(data=st.one_of(JSON_VALUES, st.dictionaries(st.sampled_from([
    "status_code", "schedule_state", "quarantine_reason", "quarantine", "last_execution_state", "job_id",
    "service_principal_id", "count_successive_complete_failures", "template_id"]), JSON_VALUES, max_size=9)))
def test_job_from_dict_never_raises(data):
    job = job_from_dict(data)
    assert isinstance(job, Job)
    json.dumps(job.to_dict())
    assert isinstance(job.count_successive_complete_failures, int)


@settings(max_examples=150, deadline=None)
@given(raw=st.one_of(graph_jobs(), JSON_VALUES), conditions=ANY_CONDITIONS)
def test_decide_restart_is_total(raw, conditions):
    """Any job and any restart_if: a Decision with a reason, or an InputError that names restart_if. Nothing else."""
    try:
        decision = decide_restart(raw, conditions)
    except InputError as exc:
        assert "restart_if" in str(exc)
        return
    assert isinstance(decision, Decision) and isinstance(decision.restart, bool) and decision.reason
    assert set(decision.matched) <= set(RESTART_CONDITIONS)
    assert decision.restart == bool(decision.matched)


@settings(max_examples=150, deadline=None)
@given(raw=st.one_of(graph_jobs(), JSON_VALUES), state=st.one_of(st.sampled_from(["started", "paused", " Started ", "PAUSED"]), JSON_VALUES))
def test_decide_state_is_total_and_never_starts_a_job_it_cannot_see_stopped(raw, state):
    try:
        decision = decide_state(raw, state)
    except InputError as exc:
        assert "state" in str(exc)
        return
    assert decision.action in STATE_ACTIONS and decision.check_action() in STATE_ACTIONS and decision.reason
    job = parse_job(raw)
    if decision.act and decision.action == "started":
        assert job.paused or job.quarantined, job  # never start a running, unconfigured or unreadable job
    if decision.act and decision.action == "paused":
        assert not job.paused
    if not decision.act:
        assert decision.action in ("skipped", "failed")


# ---- validators: only InputError, whatever they get ---------------------------------------------------------------

HOSTILE_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=string.ascii_letters + string.digits + "._-/%?#&=+ \t\n\\:@", max_size=40),
    st.sampled_from(["..", ".", "%2F", "a/../b", "scim.abc\n", "\u202escim", "scim.\u0430bc", "x" * 300]),
)


@settings(max_examples=120, deadline=None)
@given(value=st.one_of(HOSTILE_TEXT, JSON_VALUES))
def test_an_accepted_job_id_is_one_path_segment_as_is(value):
    try:
        accepted = validate_job_id(value)
    except InputError as exc:
        assert "job" in str(exc)
        return
    assert accepted == value
    assert quote_segment(accepted) == accepted, "an accepted id would change once quoted into the path"
    assert accepted not in (".", "..") and "/" not in accepted


@settings(max_examples=150, deadline=None)
@given(value=st.one_of(HOSTILE_TEXT, JSON_VALUES, st.uuids().map(str), st.uuids().map(lambda u: str(u).upper())))
def test_service_principal_id_is_a_lowercase_guid_or_an_input_error(value):
    try:
        accepted = validate_service_principal_id(value)
    except InputError as exc:
        assert "service_principal_id" in str(exc)
        return
    assert accepted == value.lower() and len(accepted) == 36 and quote_segment(accepted) == accepted


@settings(max_examples=150, deadline=None)
@given(names=st.one_of(JSON_VALUES, st.lists(st.one_of(st.sampled_from(list(RESET_SCOPE_FLAGS)), st.text(max_size=12)), max_size=5)),
       opt_in=st.booleans())
def test_build_reset_scope_is_a_wire_string_or_an_input_error(names, opt_in):
    try:
        scope, warnings = build_reset_scope(names, opt_in)
    except InputError as exc:
        assert "reset_scope" in str(exc)
        return
    assert isinstance(warnings, list)
    if scope is not None:
        parsed = parse_reset_scope(scope)
        assert parsed and "None" not in parsed
        assert opt_in or ("ConnectorDataStore" not in parsed and "Full" not in parsed)


@settings(max_examples=150, deadline=None)
@given(scope=st.one_of(st.none(), st.text(max_size=40), st.lists(st.sampled_from([n for n in RESET_SCOPE_FLAGS if n != "None"]), min_size=1, max_size=6)
                       .map(" ,".join)))
def test_parse_reset_scope_round_trips_from_the_wire(scope):
    try:
        names = parse_reset_scope(scope)
    except InputError:
        return
    if not names:
        return
    assume("None" not in names)
    rebuilt, _warnings = build_reset_scope(names, allow_connector_data_store=True)
    assert parse_reset_scope(rebuilt) == parse_reset_scope(build_reset_scope(parse_reset_scope(rebuilt), True)[0])


@settings(max_examples=150, deadline=None)
@given(values=st.one_of(JSON_VALUES, st.lists(st.one_of(st.sampled_from(RESTART_CONDITIONS), st.text(max_size=10)), max_size=5)))
def test_validate_conditions_is_a_list_or_an_input_error(values):
    try:
        conditions = validate_conditions(values)
    except InputError:
        return
    assert conditions and len(set(conditions)) == len(conditions) and set(conditions) <= set(RESTART_CONDITIONS)


GUIDS = st.sampled_from(["00000000-0000-4000-8000-%012d" % n for n in range(3)] + ["00000000-0000-4000-8000-00000000000A".upper()])
JOB_IDS = st.sampled_from(["scim.%032x" % n for n in range(3)] + ["SCIM.%032x" % 1])


@settings(max_examples=150, deadline=None)
@given(items=st.lists(st.one_of(
    st.fixed_dictionaries({"service_principal_id": GUIDS | GUIDS.map(str.upper), "job_id": JOB_IDS},
                          optional={"tenant_id": st.text(max_size=5), "status_code": JSON_SCALARS}),
    JSON_VALUES), max_size=8))
def test_targets_dedupe_without_losing_or_reordering_a_job(items):
    try:
        targets, notes = normalize_job_targets(items)
    except InputError as exc:
        assert "jobs" in str(exc)
        return
    assert len(targets) + len(notes) == len(items)
    keys = [(t.service_principal_id, t.job_id) for t in targets]
    assert len(set(keys)) == len(keys)
    expected = []
    for item in items:
        key = (item["service_principal_id"].lower(), item["job_id"])
        if key not in expected:
            expected.append(key)
    assert keys == expected
    assert [t.index for t in targets] == sorted(t.index for t in targets)


# ---- summaries, fleet filters and Graph error readers ------------------------------------------------------------

RESULTS = st.lists(st.one_of(
    st.fixed_dictionaries({"action": st.one_of(st.sampled_from(ACTIONS + STATE_ACTIONS), JSON_SCALARS)}), JSON_VALUES), max_size=12)


@settings(max_examples=120, deadline=None)
@given(results=RESULTS)
def test_summaries_always_add_up(results):
    for counts in (summarize(results), summarize(results, STATE_ACTIONS)):
        assert counts["total"] == len(results)
        assert sum(value for key, value in counts.items() if key != "total") == len(results)
    counts = action_counts(results)
    assert counts["total"] == sum(1 for result in results if isinstance(result, dict))


@settings(max_examples=120, deadline=None)
@given(jobs=st.one_of(JSON_VALUES, st.lists(st.one_of(graph_jobs().map(lambda raw: parse_job(raw).to_dict()), JSON_VALUES), max_size=6)),
       restart_if=ANY_CONDITIONS)
def test_fleet_filters_never_crash(jobs, restart_if):
    try:
        picked = restart_candidates(jobs, restart_if)
    except AnsibleFilterError:
        pass
    else:
        assert all(isinstance(job, dict) for job in picked)
    if isinstance(jobs, list) or jobs is None:
        json.dumps(job_counts(jobs))
    for job in jobs if isinstance(jobs, list) else []:
        if isinstance(job, dict):
            assert set(report_entry(job)) >= {"service_principal_id", "job_id", "action", "reason"}


@settings(max_examples=150, deadline=None)
@given(body=JSON_VALUES, status=st.integers(100, 599), retry_after=st.one_of(st.none(), st.text(max_size=30), st.floats().map(str)))
def test_graph_error_readers_never_crash(body, status, retry_after):
    code, message, request_id = error_fields(body)
    text = describe_error(status, code, message, "POST", "/servicePrincipals/x/synchronization/jobs/y/restart", False, request_id)
    assert str(status) in text
    seconds = parse_retry_after(retry_after)
    assert seconds is None or 0 <= seconds <= 120


@pytest.mark.parametrize("code", ["Quarantine", "quarantine", "QUARANTINE", " Quarantine "])
def test_quarantine_in_any_casing_is_quarantined(code):
    job = parse_job({"id": "scim.1", "status": {"code": code}})
    assert job.quarantined and decide_restart(job, ["quarantined"]).restart

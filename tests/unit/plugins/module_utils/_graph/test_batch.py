# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""$batch in GraphClient (per-item retries, the POST safety rule inside an envelope, fallback to single requests),
the Pacer, and the fleet paths that use them: batched discovery, restart_many, trusting a given status."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import GraphError
from ansible_collections.entra.sync.plugins.module_utils._graph import pacing, retry
from ansible_collections.entra.sync.plugins.module_utils._graph.batch import BatchCall
from ansible_collections.entra.sync.plugins.module_utils._graph.sync_api import SyncApi, job_path, jobs_path
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import JobTarget, normalize_job_targets
from ansible_collections.entra.sync.plugins.module_utils._service.discovery import JobFilter, scan_jobs, scan_tenant
from ansible_collections.entra.sync.plugins.module_utils._service.restart import Restarter, RestartPlan, given_statuses
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._graph.test_graph import (
    connection_reset,
    new_connection_error,
    read_timeout,
    response,
    scripted,
)

SP = "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
SP2 = "9b1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
JOB = "scim.0123456789abcdef0123456789abcdef"
JOB2 = "aws.0123456789abcdef0123456789abcdef"


def envelope(*answers):
    """A 200 $batch envelope; answers are (id, status, body[, headers]), in any order."""
    responses = []
    for answer in answers:
        item = {"id": answer[0], "status": answer[1], "headers": answer[3] if len(answer) > 3 else {}}
        if answer[2] is not None:
            item["body"] = answer[2]
        responses.append(item)
    return response(200, {"responses": responses})


def sent_items(call):
    return [(item["id"], item["method"], item["url"]) for item in call["json"]["requests"]]


def throttled(retry_after="0.05"):
    return {"error": {"code": "TooManyRequests", "message": "slow down"}}, {"Retry-After": retry_after}


def test_one_envelope_answers_in_input_order_whatever_the_order_of_the_responses(clock):
    client, script = scripted([envelope(("1", 200, {"value": [2]}), ("0", 200, {"value": [1]}))])
    calls = [BatchCall("GET", jobs_path(SP)), BatchCall("GET", jobs_path(SP2))]
    assert client.batch(calls) == [({"value": [1]}, None), ({"value": [2]}, None)]
    assert len(script.calls) == 1
    assert script.calls[0]["url"].endswith("/v1.0/$batch") and script.calls[0]["method"] == "POST"
    assert sent_items(script.calls[0]) == [("0", "GET", jobs_path(SP)), ("1", "GET", jobs_path(SP2))]
    assert client.stats() == {"batch requests": 1, "batch items": 2}


def test_a_post_item_carries_its_body_and_content_type(clock):
    client, script = scripted([envelope(("0", 204, None), ("1", 204, None))])
    body = {"criteria": {}}
    client.batch([BatchCall("POST", job_path(SP, JOB) + "/restart", body), BatchCall("POST", job_path(SP2, JOB2) + "/restart", body)])
    item = script.calls[0]["json"]["requests"][0]
    assert item["body"] == body and item["headers"] == {"Content-Type": "application/json"}


def test_a_throttled_item_goes_again_in_the_next_envelope_after_its_retry_after(clock):
    body, headers = throttled("0.3")
    client, script = scripted([envelope(("0", 200, {"value": []}), ("1", 429, body, headers)), response(200, {"value": [7]})])
    answers = client.batch([BatchCall("GET", jobs_path(SP)), BatchCall("GET", jobs_path(SP2))])
    assert answers == [({"value": []}, None), ({"value": [7]}, None)]
    # one item left: it goes as a single request, after its own Retry-After
    assert script.calls[1]["url"].endswith(jobs_path(SP2))
    assert pytest.approx(0.3) in clock.sleeps
    assert not client._pacers[False].active, "one 429 among answers is no evidence of an empty bucket"
    assert client._pause_until == 0.0, "nor a reason to stop the other workers"


def test_an_item_that_stays_throttled_fails_after_max_retries(clock):
    body, headers = throttled()
    steps = [envelope(("0", 429, body, headers), ("1", 429, body, headers)) for _round in range(3)]
    client, _script = scripted(steps, max_retries=2)
    answers = client.batch([BatchCall("GET", jobs_path(SP)), BatchCall("GET", jobs_path(SP2))])
    assert all(value is None and isinstance(error, GraphError) and error.status == 429 for value, error in answers)
    assert "gave up after 3 attempts" in str(answers[0][1])


@pytest.mark.parametrize("error", [read_timeout(), connection_reset()], ids=["read timeout", "reset"])
def test_a_lost_envelope_resends_its_reads_and_makes_its_writes_unknown(clock, error):
    client, script = scripted([error, response(200, {"id": JOB})])
    answers = client.batch([BatchCall("GET", job_path(SP, JOB)), BatchCall("POST", job_path(SP2, JOB2) + "/restart", {"criteria": {}})])
    assert answers[0] == ({"id": JOB}, None)
    assert answers[1][0] is None and answers[1][1].outcome_unknown
    assert "not sent again" in str(answers[1][1])
    assert [call["method"] for call in script.calls] == ["POST", "GET"], "the restart was not sent twice"


def test_an_envelope_that_never_left_is_sent_again_writes_included(clock):
    client, script = scripted([new_connection_error(), response(204), response(204)])
    answers = client.batch([BatchCall("POST", job_path(SP, JOB) + "/restart", {}), BatchCall("POST", job_path(SP2, JOB2) + "/restart", {})])
    assert answers == [(None, None), (None, None)]
    assert [call["url"].rsplit("/v1.0", 1)[1] for call in script.calls[1:]] == [job_path(SP, JOB) + "/restart", job_path(SP2, JOB2) + "/restart"]


def test_a_lost_envelope_does_not_spend_its_reads_attempts(clock):
    """Each read goes again singly with its whole retry budget, however often envelopes are lost."""
    client, script = scripted([connection_reset(), connection_reset(), response(200, {"id": JOB}), response(200, {"id": JOB2})],
                              max_retries=1)
    answers = client.batch([BatchCall("GET", job_path(SP, JOB)), BatchCall("GET", job_path(SP2, JOB2))])
    assert answers == [({"id": JOB}, None), ({"id": JOB2}, None)]
    assert len(script.calls) == 4 and client.stats()["batch envelopes lost"] == 1


def test_a_malformed_envelope_makes_writes_unknown(clock):
    client, script = scripted([response(200, raw=b'{"responses": [{"id"'), response(200, {"id": JOB})])
    answers = client.batch([BatchCall("GET", job_path(SP, JOB)), BatchCall("POST", job_path(SP2, JOB2) + "/restart", {})])
    assert answers[0] == ({"id": JOB}, None)
    assert answers[1][1].outcome_unknown
    assert len(script.calls) == 2


def test_a_write_without_an_answer_is_unknown_and_a_read_without_one_goes_again(clock):
    client, script = scripted([envelope(), response(200, {"id": JOB})])
    answers = client.batch([BatchCall("GET", job_path(SP, JOB)), BatchCall("POST", job_path(SP2, JOB2) + "/restart", {})])
    assert answers[0] == ({"id": JOB}, None)
    assert answers[1][1].outcome_unknown
    assert len(script.calls) == 2


def test_a_server_error_item_is_retried_for_a_read_and_unknown_for_a_write(clock):
    error = {"error": {"code": "InternalServerError", "message": "boom"}}
    client, script = scripted([envelope(("0", 500, error), ("1", 500, error)), response(200, {"id": JOB})])
    answers = client.batch([BatchCall("GET", job_path(SP, JOB)), BatchCall("POST", job_path(SP2, JOB2) + "/restart", {})])
    assert answers[0] == ({"id": JOB}, None)
    assert answers[1][1].outcome_unknown and answers[1][1].status == 500
    assert len(script.calls) == 2


def test_a_client_error_item_fails_without_a_retry(clock):
    error = {"error": {"code": "Request_ResourceNotFound", "message": "no such job"}}
    client, script = scripted([envelope(("0", 404, error), ("1", 200, {"id": JOB2}))])
    answers = client.batch([BatchCall("GET", job_path(SP, JOB)), BatchCall("GET", job_path(SP2, JOB2))])
    assert answers[0][1].status == 404 and not answers[0][1].outcome_unknown
    assert answers[1] == ({"id": JOB2}, None)
    assert len(script.calls) == 1


def test_a_refused_envelope_switches_to_single_requests_for_good(clock):
    refused = response(400, {"error": {"code": "BadRequest", "message": "Batch is not supported for this request."}})
    client, script = scripted([refused, response(200, {"value": [1]}), response(200, {"value": [2]}), response(200, {"value": [3]})])
    answers = client.batch([BatchCall("GET", jobs_path(SP)), BatchCall("GET", jobs_path(SP2))])
    assert answers == [({"value": [1]}, None), ({"value": [2]}, None)]
    assert client.batch_refused
    assert client.batch([BatchCall("GET", jobs_path(SP))]) == [({"value": [3]}, None)]
    assert [call["url"].rsplit("/v1.0", 1)[1] for call in script.calls] == ["/$batch", jobs_path(SP), jobs_path(SP2), jobs_path(SP)]


def test_an_expired_token_on_an_item_refreshes_once_and_resends(clock):
    expired = {"error": {"code": "InvalidAuthenticationToken", "message": "Lifetime validation failed"}}
    client, script = scripted([envelope(("0", 401, expired), ("1", 401, expired)), envelope(("0", 200, {"a": 1}), ("1", 200, {"b": 2}))])
    answers = client.batch([BatchCall("GET", jobs_path(SP)), BatchCall("GET", jobs_path(SP2))])
    assert answers == [({"a": 1}, None), ({"b": 2}, None)]
    assert script.tokens[0] != script.tokens[1]


def test_a_json_string_item_body_is_decoded(clock):
    client, _script = scripted([envelope(("0", 200, json.dumps({"value": [1]})), ("1", 200, ""))])
    assert client.batch([BatchCall("GET", jobs_path(SP)), BatchCall("GET", jobs_path(SP2))]) == [({"value": [1]}, None), (None, None)]


def test_throttled_writes_go_out_one_at_a_time(clock):
    client, script = scripted([response(204), response(204)])
    client._pacers[True] = pacing.Pacer(spacing=0.05)
    answers = client.batch([BatchCall("POST", job_path(SP, JOB) + "/restart", {}), BatchCall("POST", job_path(SP2, JOB2) + "/restart", {})])
    assert answers == [(None, None), (None, None)]
    assert [call["url"].rsplit("/v1.0", 1)[1] for call in script.calls] == [job_path(SP, JOB) + "/restart", job_path(SP2, JOB2) + "/restart"]


def test_more_than_twenty_calls_are_refused(clock):
    client, _script = scripted([])
    with pytest.raises(ValueError):
        client.batch([BatchCall("GET", jobs_path(SP))] * 21)


def refused_then_taken(body, headers, requests=2):
    """The answers for `requests` writes refused PACE_EVIDENCE times in all, then each taken: an empty write bucket."""
    each = pacing.PACE_EVIDENCE // requests
    return ([response(429, body, headers)] * each + [response(204)]) * requests


def test_single_requests_are_paced_once_the_write_bucket_is_empty(clock):
    body, headers = throttled("0.2")
    client, _script = scripted(refused_then_taken(body, headers) + [response(204)], max_retries=10)
    client.post(job_path(SP, JOB) + "/restart", {})
    assert not client._pacers[True].active, "half the evidence: not yet"
    client.post(job_path(SP, JOB) + "/restart", {})
    assert client._pacers[True].active and not client._pacers[False].active
    assert client._pacers[True].spacing == pytest.approx(0.2 * pacing.PACE_START)
    client.post(job_path(SP2, JOB2) + "/restart", {})
    assert clock.sleeps[-1] == pytest.approx(0.2 * pacing.PACE_START), "the next write waited for its slot"


def test_a_stray_429_makes_only_its_own_request_wait(clock):
    body, headers = throttled("0.4")
    client, _script = scripted([response(204)] * 5 + [response(429, body, headers), response(204)])
    for _round in range(6):
        client.post(job_path(SP, JOB) + "/restart", {})
    assert clock.sleeps == [pytest.approx(0.4)]
    assert not client._pacers[True].active and client._pause_until == 0.0


# ---- the fleet paths ---------------------------------------------------------------------------------------------------

class FakeApi:
    """SyncApi's many-at-once surface over a dict of raw jobs; records what was asked."""

    def __init__(self, raw_jobs, batch="reads", service_principals=None, fail=()):
        self.raw_jobs = raw_jobs
        self.batch_mode = batch
        self.service_principals = service_principals or []
        self.fail = set(fail)
        self.reads, self.restarts, self.listed = [], [], []

    batch_reads = property(lambda self: self.batch_mode in ("reads", "all"))
    batch_writes = property(lambda self: self.batch_mode == "all")

    def iter_service_principals(self, _filter=None):
        return iter(self.service_principals)

    def list_jobs_batch(self, sp_ids):
        self.listed.append(list(sp_ids))
        return [((None, GraphError("boom", status=403)) if sp in self.fail else
                 ([raw for (owner, _job), raw in self.raw_jobs.items() if owner == sp], None)) for sp in sp_ids]

    def get_jobs_many(self, pairs, concurrency):
        self.reads.extend(pairs)
        return [(self.raw_jobs.get(pair), None) if pair in self.raw_jobs else (None, GraphError("not found", status=404)) for pair in pairs]

    def restart_many(self, pairs, body, concurrency, on_sent=None):
        if on_sent:
            on_sent(list(range(len(pairs))))
        self.restarts.extend(pairs)
        return [(None, GraphError("lost", outcome_unknown=True)) if pair[0] in self.fail else (None, None) for pair in pairs]


def raw(job_id, code):
    return {"id": job_id, "templateId": job_id.split(".")[0], "status": {"code": code}, "schedule": {"state": "Active"}}


def test_batched_discovery_reads_twenty_service_principals_per_envelope():
    sps = [{"id": "%08d-0000-4000-8000-000000000000" % n, "displayName": "app %d" % n} for n in range(45)]
    jobs = {(sps[n]["id"], "scim.%032x" % n): raw("scim.%032x" % n, "Quarantine" if n % 2 else "Active") for n in range(0, 45, 3)}
    api = FakeApi(jobs, service_principals=sps, fail={sps[4]["id"]})
    scan = scan_tenant(api, JobFilter.from_lists(status_codes=["Quarantine"]), concurrency=4)
    assert [len(group) for group in api.listed] == [20, 20, 5]
    assert scan.service_principals_read == 45
    assert scan.errors == [{"service_principal_id": sps[4]["id"], "message": "boom"}]
    assert sorted(job.job_id for job in scan.jobs) == sorted(job for (_sp, job), body in jobs.items() if body["status"]["code"] == "Quarantine")
    assert all(job.service_principal_name for job in scan.jobs)


def test_batched_scan_jobs_reads_named_jobs():
    api = FakeApi({(SP, JOB): raw(JOB, "Active")})
    scan = scan_jobs(api, [JobTarget(SP, JOB), JobTarget(SP2, JOB2)], JobFilter())
    assert [job.job_id for job in scan.jobs] == [JOB]
    assert scan.errors[0]["job_id"] == JOB2


def _items(now):
    fresh = (now - timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stale = (now - timedelta(seconds=1000)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [
        {"service_principal_id": SP, "job_id": JOB, "status_code": "Quarantine", "status_read_at": fresh},
        {"service_principal_id": SP2, "job_id": JOB2, "status_code": "Quarantine", "status_read_at": stale},
        {"service_principal_id": SP, "job_id": JOB2},
        {"service_principal_id": SP2, "job_id": JOB, "status_code": "Active"},
    ]


def test_given_statuses_trusts_fresh_or_undated_statuses_only():
    now = datetime.now(UTC)
    items = _items(now)
    targets, _notes = normalize_job_targets(items)
    given = given_statuses(items, targets, 300, now)
    assert sorted(given) == [0, 3]
    assert given[0].status_code == "Quarantine" and given[0].quarantined
    assert given[3].status_code == "Active"


def test_restart_many_reads_only_what_it_cannot_trust_and_decides_the_same():
    now = datetime.now(UTC)
    items = _items(now)
    targets, _notes = normalize_job_targets(items)
    api = FakeApi({(SP2, JOB2): raw(JOB2, "Active"), (SP, JOB2): raw(JOB2, "Quarantine")})
    outcomes = Restarter(api, RestartPlan(("quarantined",))).restart_many(targets, 4, given_statuses(items, targets, 300, now))
    assert api.reads == [(SP2, JOB2), (SP, JOB2)], "the stale and the status-less items were read; the others were not"
    assert [o.result["action"] for o in outcomes] == ["restarted", "skipped", "restarted", "skipped"]
    assert api.restarts == [(SP, JOB), (SP, JOB2)]
    assert all(o.sent_at and o.done_clock for o in outcomes if o.result["action"] == "restarted")


def test_restart_many_in_check_mode_sends_nothing_and_reports_unknowns():
    items = [{"service_principal_id": SP, "job_id": JOB, "status_code": "Quarantine"},
             {"service_principal_id": SP2, "job_id": JOB2, "status_code": "Quarantine"}]
    targets, _notes = normalize_job_targets(items)
    api = FakeApi({})
    checked = Restarter(api, RestartPlan(("quarantined",), check_mode=True)).restart_many(targets, 2, given_statuses(items, targets, 300))
    assert [o.result["action"] for o in checked] == ["would_restart", "would_restart"] and api.restarts == []
    api = FakeApi({}, fail={SP2})
    outcomes = Restarter(api, RestartPlan(("quarantined",))).restart_many(targets, 2, given_statuses(items, targets, 300))
    assert [o.result["action"] for o in outcomes] == ["restarted", "unknown"]


def test_sync_api_batches_reads_in_twenties(clock):
    pairs = [(SP, "scim.%032x" % n) for n in range(25)]
    first = envelope(*[(str(n), 200, {"id": pairs[n][1]}) for n in range(20)])
    second = envelope(*[(str(n), 200, {"id": pairs[20 + n][1]}) for n in range(5)])
    client, script = scripted([first, second])
    api = SyncApi(client, batch="reads")
    answers = api.get_jobs_many(pairs, 1)
    assert [body["id"] for body, _error in answers] == [job for _sp, job in pairs]
    assert len(script.calls) == 2
    # restarts stay single requests unless batch is "all"
    script.steps.extend([response(204), response(204)])
    assert api.restart_many(pairs[:2], {"criteria": {}}, 1) == [(None, None), (None, None)]
    assert script.calls[-1]["url"].endswith("/restart")


def test_a_write_rate_given_up_front_paces_restarts_from_the_first_one(clock):
    client, _script = scripted([response(204), response(204)], write_rate=20)
    assert client.pace() == {"read_rate": None, "write_rate": 20.0}
    client.post(job_path(SP, JOB) + "/restart", {})
    client.post(job_path(SP2, JOB2) + "/restart", {})
    assert clock.sleeps == [pytest.approx(0.05)]


def test_the_pace_learned_is_reported(clock):
    body, headers = throttled("0.04")
    client, _script = scripted(refused_then_taken(body, headers), max_retries=10)
    assert client.pace() == {"read_rate": None, "write_rate": None}
    client.post(job_path(SP, JOB) + "/restart", {})
    client.post(job_path(SP, JOB) + "/restart", {})
    assert client.pace()["write_rate"] == pytest.approx(1 / (0.04 * pacing.PACE_START), rel=1e-3)


def test_429s_while_paced_do_not_spend_the_retries(clock):
    """The pace swings around the bucket's rate: a refusal on a paced slot is its miss, not the request's failure."""
    body, headers = throttled("0.05")
    client, _script = scripted([response(429, body, headers)] * 3 + [response(204)], max_retries=1, write_rate=20)
    client.post(job_path(SP, JOB) + "/restart", {})
    unpaced, _script = scripted([response(429, body, headers)] * 3 + [response(204)], max_retries=1)
    with pytest.raises(GraphError) as info:
        unpaced.post(job_path(SP, JOB) + "/restart", {})
    assert "gave up after 2 attempts" in str(info.value)


def test_paced_refusals_are_bounded(clock):
    body, headers = throttled("0.05")
    steps = [response(429, body, headers)] * (retry.PACED_REFUSALS + 2)
    client, script = scripted(steps, max_retries=1, write_rate=20)
    with pytest.raises(GraphError):
        client.post(job_path(SP, JOB) + "/restart", {})
    assert len(script.calls) == retry.PACED_REFUSALS + 2


def test_batch_items_refused_while_paced_keep_their_retries(clock):
    body, headers = throttled("0.003")
    refused = envelope(("0", 429, body, headers), ("1", 429, body, headers))
    client, _script = scripted([refused, refused, refused, envelope(("0", 200, {"value": []}), ("1", 200, {"value": [1]}))], max_retries=1)
    client._pacers[False] = pacing.Pacer(spacing=0.003)
    answers = client.batch([BatchCall("GET", jobs_path(SP)), BatchCall("GET", jobs_path(SP2))])
    assert answers == [({"value": []}, None), ({"value": [1]}, None)]

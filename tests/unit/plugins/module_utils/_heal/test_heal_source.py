"""The event source's blocking half: argument checks (before anything is sent), discovery, polls, failures."""

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import GraphError, InputError
from ansible_collections.entra.sync.plugins.module_utils._heal.heal_source import HealSource, parse_source_args

SP1 = "00000000-0000-4000-8000-000000000001"
SP2 = "00000000-0000-4000-8000-000000000002"
SECRET = "s3cr3t-value-never-shown"


def raw_job(job_id, code="Active", began="2026-11-01T10:00:00Z"):
    status = {"code": code, "lastExecution": {"state": "Succeeded"}}
    if code == "Quarantine":
        status["quarantine"] = {"reason": "EncounteredQuarantineException", "currentBegan": began,
                                "error": {"code": "E", "message": "m", "tenantActionable": False}}
    return {"id": job_id, "templateId": "scim", "schedule": {"state": "Active"}, "status": status}


class FakeApi:
    """Discovery (iter_service_principals + list_jobs) and polls (get_jobs_many) over a dict sp id -> {job id: raw}."""

    batch_reads = False

    def __init__(self, jobs):
        self.jobs = jobs
        self.down = False
        self.polls = []
        self.listings = 0

    def iter_service_principals(self, odata_filter=None):
        if self.down:
            raise GraphError("GET /servicePrincipals failed: connection refused")
        return [{"id": sp_id, "displayName": "App " + sp_id[-1], "appId": "app"} for sp_id in self.jobs]

    def list_jobs(self, service_principal_id):
        self.listings += 1
        return list(self.jobs[service_principal_id].values())

    def get_jobs_many(self, pairs, concurrency):
        self.polls.append(list(pairs))
        answers = []
        for sp_id, job_id in pairs:
            if self.down:
                answers.append((None, GraphError("GET failed: connection refused (client_secret=%s)" % SECRET)))
            elif job_id not in self.jobs[sp_id]:
                answers.append((None, GraphError("not found", status=404)))
            else:
                answers.append((self.jobs[sp_id][job_id], None))
        return answers


def config(**args):
    base = {"tenant_id": "contoso.onmicrosoft.com", "client_id": "app", "client_secret": SECRET, "interval": 5,
            "discovery_interval": 60}
    base.update(args)
    return parse_source_args(base)[0]


def types(events):
    return [event["entra_sync"]["type"] for event in events]


def test_arguments_take_the_modules_defaults_and_env_fallbacks(monkeypatch):
    monkeypatch.setenv("AZURE_TENANT_ID", "fabrikam.onmicrosoft.com")
    monkeypatch.setenv("ENTRA_SYNC_GRAPH_ENDPOINT", "https://127.0.0.1:8443")
    cfg, get_option = parse_source_args({"eda_feedback_queue": object()})
    assert get_option("tenant_id") == "fabrikam.onmicrosoft.com"
    assert get_option("graph_endpoint") == "https://127.0.0.1:8443"
    assert get_option("cloud") == "global" and get_option("validate_certs") is True and get_option("timeout") == 30.0
    assert (cfg.interval, cfg.discovery_interval, cfg.relapse_window, cfg.emit_initial) == (300, 3600, 86400, True)
    assert cfg.policy.max_restarts == 1 and cfg.policy.escalate_reasons == ("TooManyDeletes",)
    assert cfg.policy.credential_jobs == frozenset()
    with_credentials, _get = parse_source_args({"credential_jobs": ["scim.ABC", "8A1B2C3D-4E5F-4A6B-9C8D-7E6F5A4B3C2D"]})
    assert with_credentials.policy.credential_jobs == {"scim.abc", "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"}


@pytest.mark.parametrize("args, words", [
    ({"bogus": 1}, "unknown argument bogus"),
    ({"interval": 0}, "interval 0 is below the minimum"),
    ({"interval": "often"}, "interval"),
    ({"relapse_window": 0}, "relapse_window"),
    ({"concurrency": 500}, "concurrency 500 is out of range"),
    ({"interval": 600, "discovery_interval": 60}, "discovery_interval 60 is shorter"),
    ({"validate_certs": "maybe"}, "validate_certs"),
    ({"max_restarts": -1}, "max_restarts"),
    ({"emit_initial": "sometimes"}, "emit_initial"),
    ({"credential_jobs": [""]}, "credential_jobs"),
])
def test_bad_arguments_give_one_clear_error_without_secrets(args, words):
    with pytest.raises(InputError) as caught:
        parse_source_args(dict({"client_secret": SECRET}, **args))
    assert words in str(caught.value)
    assert str(caught.value).startswith("entra.sync.sync_job_events: ")
    assert SECRET not in str(caught.value)


def test_first_step_discovers_then_polls_read_only_the_known_jobs():
    api = FakeApi({SP1: {"a": raw_job("a", "Quarantine")}, SP2: {"b": raw_job("b")}})
    source = HealSource(api, config(), tenant_id="contoso", wall_clock=lambda: "now")
    events, delay = source.step(0.0)
    assert types(events) == ["unhealthy"] and delay == 5
    assert events[0]["entra_sync"]["job"]["service_principal_name"] == "App 1"
    assert events[0]["entra_sync"]["job"]["tenant_id"] == "contoso"
    listed = api.listings
    api.jobs[SP1]["a"] = raw_job("a")
    events = source.step(5.0)[0]
    assert types(events) == ["recovered"]
    assert api.listings == listed and api.polls == [[(SP1, "a"), (SP2, "b")]]
    assert events[0]["entra_sync"]["job"]["service_principal_name"] == "App 1"
    assert source.step(10.0)[0] == []


def test_a_new_service_principal_appears_at_the_next_discovery():
    api = FakeApi({SP1: {"a": raw_job("a")}})
    source = HealSource(api, config(), wall_clock=lambda: "now")
    source.step(0.0)
    api.jobs[SP2] = {"b": raw_job("b", "Quarantine")}
    assert source.step(5.0)[0] == []
    events = source.step(60.0)[0]
    assert types(events) == ["unhealthy"] and events[0]["entra_sync"]["job"]["job_id"] == "b"


def test_an_unreachable_service_gives_one_scan_error_per_poll_backs_off_and_recovers():
    api = FakeApi({SP1: {"a": raw_job("a"), "b": raw_job("b")}})
    source = HealSource(api, config(), secrets=[SECRET], wall_clock=lambda: "now")
    source.step(0.0)
    api.down = True
    delays = []
    for now in (5.0, 15.0, 35.0):
        events, delay = source.step(now)
        assert types(events) == ["scan_error"]
        assert SECRET not in repr(events)
        delays.append(delay)
    assert delays == [10, 20, 30]
    api.down = False
    api.jobs[SP1]["a"] = raw_job("a", "Quarantine")
    events, delay = source.step(65.0)
    assert types(events) == ["unhealthy"] and delay == 5
    assert source.failures == 0


def test_a_failed_discovery_is_retried_and_reported():
    api = FakeApi({SP1: {"a": raw_job("a", "Quarantine")}})
    api.down = True
    source = HealSource(api, config(), wall_clock=lambda: "now")
    events = source.step(0.0)[0]
    assert types(events) == ["scan_error"] and events[0]["entra_sync"]["phase"] == "discovery"
    api.down = False
    assert types(source.step(10.0)[0]) == ["unhealthy"]


def test_a_deleted_job_is_dropped_not_reported_as_an_error():
    api = FakeApi({SP1: {"a": raw_job("a"), "b": raw_job("b")}})
    source = HealSource(api, config(), wall_clock=lambda: "now")
    source.step(0.0)
    del api.jobs[SP1]["b"]
    assert source.step(5.0)[0] == []
    assert [entry[1] for entry in source.known] == ["a"]


class PartlyFailingApi(FakeApi):
    """Every read of job "b" fails; the others answer."""

    def get_jobs_many(self, pairs, concurrency):
        answers = super().get_jobs_many(pairs, concurrency)
        return [(None, GraphError("GET failed: 503")) if pair[1] == "b" else answer for pair, answer in zip(pairs, answers, strict=True)]


def test_a_partly_failed_poll_reports_one_scan_error_and_keeps_the_interval():
    api = PartlyFailingApi({SP1: {"a": raw_job("a"), "b": raw_job("b")}})
    source = HealSource(api, config(), wall_clock=lambda: "now")
    source.step(0.0)
    api.jobs[SP1]["a"] = raw_job("a", "Quarantine")
    events, delay = source.step(5.0)
    assert types(events) == ["unhealthy", "scan_error"]
    assert events[1]["entra_sync"]["failed_reads"] == 1 and delay == 5


def test_each_discovery_after_the_first_starts_with_a_fresh_api():
    first = FakeApi({SP1: {"a": raw_job("a")}})
    second = FakeApi({SP1: {"a": raw_job("a", "Quarantine")}})
    source = HealSource(first, config(), wall_clock=lambda: "now", reconnect=lambda: second)
    source.step(0.0)
    source.step(5.0)
    assert source.api is first and not second.listings
    events, _delay = source.step(60.0)
    assert source.api is second and second.listings == 1
    assert types(events) == ["unhealthy"]

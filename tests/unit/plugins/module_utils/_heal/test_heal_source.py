"""The event source's blocking half: argument checks (before anything is sent), discovery, polls, failures."""

import json

import pytest

from ansible_collections.entra.sync.plugins.module_utils._auth.base import transient_error
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, EntraSyncError, GraphError, InputError
from ansible_collections.entra.sync.plugins.module_utils._heal.heal_source import HealSource, fatal_at_start, parse_source_args
from ansible_collections.entra.sync.plugins.module_utils._heal.heal_store import StateFileError, StateStore

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


class Epoch:
    """The relapse window's clock (epoch seconds), apart from the scheduling clock step() is given."""

    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def store_at(path, relapse_window=86400):
    return StateStore(str(path), "contoso", "https://graph.example", relapse_window)


def heal(events):
    return [(event["entra_sync"]["type"], event["entra_sync"]["relapses"], event["entra_sync"]["heal"]["action"]) for event in events]


def test_a_restarted_source_resumes_a_relapse_after_the_restart_is_escalated(tmp_path):
    api = FakeApi({SP1: {"a": raw_job("a"), "b": raw_job("b", "Quarantine")}})
    epoch = Epoch()
    first = HealSource(api, config(), wall_clock=lambda: "now", store=store_at(tmp_path / "heal.json"), epoch=epoch)
    assert heal(first.step(0.0)[0]) == [("unhealthy", 1, "restart")]           # b was quarantined before the start
    api.jobs[SP1]["a"] = raw_job("a", "Quarantine", began="2026-11-01T11:00:00Z")
    epoch.now += 300
    assert heal(first.step(5.0)[0]) == [("unhealthy", 1, "restart")]           # a's first quarantine: restarted
    api.jobs[SP1]["a"] = raw_job("a")
    epoch.now += 300
    assert heal(first.step(10.0)[0]) == [("recovered", 1, "none")]

    # The activation restarts: a new process, the same state file.
    epoch.now += 600
    second = HealSource(api, config(), wall_clock=lambda: "now", store=store_at(tmp_path / "heal.json"), epoch=epoch)
    assert second.step(0.0)[0] == [], "b is still in the same quarantine: nothing new, no second restart"
    api.jobs[SP1]["a"] = raw_job("a", "Quarantine", began="2026-11-01T12:00:00Z")
    events = second.step(5.0)[0]
    assert heal(events) == [("unhealthy", 2, "escalate")]
    assert "2 times within the relapse window" in events[0]["entra_sync"]["heal"]["reason"]


def test_entries_older_than_the_window_are_forgotten_across_a_restart(tmp_path):
    api = FakeApi({SP1: {"a": raw_job("a", "Quarantine")}})
    epoch = Epoch()
    HealSource(api, config(relapse_window=3600), wall_clock=lambda: "now", store=store_at(tmp_path / "s.json", 3600), epoch=epoch).step(0.0)
    api.jobs[SP1]["a"] = raw_job("a")
    epoch.now += 3600
    source = HealSource(api, config(relapse_window=3600), wall_clock=lambda: "now", store=store_at(tmp_path / "s.json", 3600), epoch=epoch)
    assert heal(source.step(0.0)[0]) == [("recovered", 0, "none")]
    api.jobs[SP1]["a"] = raw_job("a", "Quarantine", began="2026-11-02T10:00:00Z")
    assert heal(source.step(5.0)[0]) == [("unhealthy", 1, "restart")]
    saved = json.loads((tmp_path / "s.json").read_text())
    assert saved["jobs"][(SP1 + "/a").lower()]["entries"] == [epoch.now]
    assert SECRET not in (tmp_path / "s.json").read_text()


def test_a_corrupt_state_file_is_one_warning_and_a_fresh_start(tmp_path):
    path = tmp_path / "heal.json"
    path.write_text("{not json")
    api = FakeApi({SP1: {"a": raw_job("a", "Quarantine")}})
    source = HealSource(api, config(), wall_clock=lambda: "now", store=store_at(path), epoch=Epoch())
    events = source.step(0.0)[0]
    assert types(events) == ["warning", "unhealthy"]
    warning = events[0]["entra_sync"]
    assert warning["phase"] == "state_file" and "not valid JSON" in warning["message"] and str(path) in warning["message"]
    assert warning["job"] is None and warning["heal"]["action"] == "none"
    assert json.loads(path.read_text())["jobs"], "replaced at the first save"
    assert types(source.step(5.0)[0]) == []


def test_a_state_file_that_cannot_be_written_is_one_warning_and_the_source_goes_on(tmp_path):
    def full_disk(path, document):
        raise StateFileError("it cannot be written (No space left on device)")

    api = FakeApi({SP1: {"a": raw_job("a", "Quarantine"), "b": raw_job("b")}})
    store = StateStore(str(tmp_path / "heal.json"), "contoso", "https://graph.example", 86400, write=full_disk)
    source = HealSource(api, config(), wall_clock=lambda: "now", store=store, epoch=Epoch())
    events = source.step(0.0)[0]
    assert types(events) == ["unhealthy", "warning"] and "No space left on device" in events[1]["entra_sync"]["message"]
    api.jobs[SP1]["b"] = raw_job("b", "Quarantine")
    assert types(source.step(5.0)[0]) == ["unhealthy"]


@pytest.mark.parametrize("error, fatal", [
    (AuthError("Sign-in as app failed: invalid_client: AADSTS7000215"), True),
    (transient_error(AuthError("Could not reach the sign-in host https://login.example: ConnectionError.")), False),
    (GraphError("GET /servicePrincipals: 403 Authorization_RequestDenied", status=403), True),
    (GraphError("GET /servicePrincipals: 401 InvalidAuthenticationToken", status=401), True),
    (GraphError("GET /servicePrincipals: 503", status=503), False),
    (GraphError("GET /servicePrincipals: connection refused"), False),
    (EntraSyncError("no job could be read"), False),
])
def test_fatal_at_start_is_a_credential_or_permission_no_retry_fixes(error, fatal):
    assert fatal_at_start(error) is fatal


class RefusingApi(FakeApi):
    def __init__(self, jobs, error):
        super().__init__(jobs)
        self.error = error

    def iter_service_principals(self, odata_filter=None):
        if self.error:
            raise self.error
        return super().iter_service_principals(odata_filter)


def test_credentials_refused_at_the_first_scan_stop_the_source_later_they_are_a_scan_error():
    api = RefusingApi({SP1: {"a": raw_job("a")}}, AuthError("Sign-in as app failed: invalid_client"))
    source = HealSource(api, config(), wall_clock=lambda: "now")
    with pytest.raises(AuthError, match="invalid_client"):
        source.step(0.0)
    api.error = None
    source.step(0.0)
    api.error = AuthError("Sign-in as app failed: invalid_client")
    assert types(source.step(60.0)[0]) == ["scan_error"], "after a scan succeeded the source goes on"


def test_an_unreachable_sign_in_host_at_the_start_is_a_scan_error():
    api = RefusingApi({SP1: {"a": raw_job("a")}}, transient_error(AuthError("Could not reach the sign-in host")))
    assert types(HealSource(api, config(), wall_clock=lambda: "now").step(0.0)[0]) == ["scan_error"]


def test_housekeeping_runs_at_the_start_and_before_each_discovery():
    calls = []
    source = HealSource(FakeApi({SP1: {"a": raw_job("a")}}), config(), wall_clock=lambda: "now", housekeeping=lambda: calls.append(1))
    source.step(0.0)
    source.step(5.0)
    assert len(calls) == 1
    source.step(60.0)
    assert len(calls) == 2


def test_the_state_file_argument_and_its_env_fallback(monkeypatch):
    assert config().state_file is None
    assert config(state_file="/var/lib/eda/heal.json").state_file == "/var/lib/eda/heal.json"
    assert not config(state_file="").state_file, "empty: the default file"
    monkeypatch.setenv("ENTRA_SYNC_HEAL_STATE_FILE", "/data/heal.json")
    assert config().state_file == "/data/heal.json"
    assert config(state_file=None, max_restarts=None).state_file == "/data/heal.json", "null is as if not given"
    assert config(interval=None, discovery_interval=None).interval == 300

"""Credential kinds beyond secret and certificate, and long runs: real MSAL over TLS against the sandbox.

- workload identity federation: a token file read again at each sign-in (rotated during a fleet run longer than a
  token's life), and an expired assertion;
- managed identity, system- and user-assigned, through MSAL's ManagedIdentityClient and the sandbox's IMDS endpoint;
- a given access_token that expires during a fleet run.
"""

import os
import threading

TOKEN = "entra.sync.graph_token"
RESTART = "entra.sync.sync_job_restart"
# The session sandbox's env signs in with the `full` app's secret: these runs must not see it.
NO_SECRET = {"AZURE_CLIENT_SECRET": None, "AZURE_SECRET": None, "ENTRA_SYNC_ACCESS_TOKEN": None}


def _write_atomically(path, text):
    """How the kubelet updates a projected token: the reader sees the old file or the new one, never half of one."""
    tmp = "%s.tmp" % path
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _quarantined(tenant, count):
    ids = tenant.make_fleet({index: ["Quarantine"] for index in range(1, count + 1)})
    return [{"service_principal_id": sp, "job_id": job} for sp, job in ids.values()]


def _federated_env(sandbox, token_file):
    return dict(NO_SECRET, AZURE_CLIENT_ID=sandbox.config["workload_identity"]["client_id"], AZURE_FEDERATED_TOKEN_FILE=str(token_file))


def _token_entries(tenant):
    return tenant.token_requests(tenant.log())


class Rotator:
    """Rewrites the token file with a fresh short-lived assertion every `period` seconds, as a kubelet does."""

    def __init__(self, admin, path, lifetime, period):
        self.admin = admin
        self.path = path
        self.lifetime = lifetime
        self.period = period
        self.written = []  # the jti of each assertion written
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def write(self):
        minted = self.admin.workload_token(expires_in=self.lifetime)
        _write_atomically(self.path, minted["token"])
        self.written.append(minted["jti"])

    def _loop(self):
        while not self._stop.wait(self.period):
            self.write()

    def __enter__(self):
        self.write()
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


def test_federated_token_file_signs_in_and_an_expired_assertion_fails_clearly(tenant, run_tasks, tmp_path):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sandbox = tenant.sandbox
    good, expired = tmp_path / "token", tmp_path / "expired-token"
    good_assertion = sandbox.admin.workload_token(expires_in=600)["token"]
    expired_assertion = sandbox.admin.workload_token(expires_in=-60)["token"]
    good.write_text(good_assertion)
    expired.write_text(expired_assertion)
    sp_id, job_id = ids[(1, 0)]
    run = run_tasks(sandbox, [
        {"module": TOKEN, "args": {}},
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_id, "restart_if": ["quarantined"]}},
        {"module": TOKEN, "args": {"federated_token_file": str(expired)}},
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_id, "federated_token_file": str(expired)}},
    ], env=_federated_env(sandbox, good), verbosity=4)
    token, restart, expired_token, expired_restart = run.results
    assert not token.get("failed") and token["auth_method"] == "federated_token", token
    assert restart["action"] == "restarted" and restart["auth_method"] == "federated_token", restart
    for result in (expired_token, expired_restart):
        assert result["failed"] is True, result
        assert "AADSTS700024" in result["msg"] and "federated token file" in result["msg"], result["msg"]
        assert "AZURE_FEDERATED_TOKEN_FILE" in result["msg"], result["msg"]
    for assertion in (good_assertion, expired_assertion):
        assert assertion not in run.output, "an assertion reached the -vvvv output"
        assert assertion.split(".")[1] not in run.output, "an assertion's claims reached the -vvvv output"
    grants = [(entry["status"], entry["body"]["grant"], entry["body"].get("error_code")) for entry in _token_entries(tenant)]
    assert grants == [(200, "federated", None), (200, "federated", None), (400, "federated", 700024), (400, "federated", 700024)], grants
    assert tenant.restarts() == {(sp_id, job_id): 1}


def test_long_fleet_run_with_30s_tokens_and_a_rotating_token_file(tenant, run_tasks, tmp_path):
    """200 restarts lasting longer than a token's life (30 s): the module signs in again by itself, reading the token
    file again; the assertion it first read has expired by then (12 s), so a stale read would fail with AADSTS700024."""
    jobs = _quarantined(tenant, 200)
    sandbox = tenant.sandbox
    sandbox.admin.set_token_lifetime(30)
    sandbox.admin.set_faults({"latency_ms": 350})
    token_file = tmp_path / "token"
    with Rotator(sandbox.admin, token_file, lifetime=12, period=2) as rotator:
        run = run_tasks(sandbox, [
            {"module": RESTART, "args": {"jobs": jobs, "restart_if": ["quarantined"], "concurrency": 4}},
        ], env=_federated_env(sandbox, token_file))
    result = run.result
    assert run.rc == 0 and not result.get("failed"), run.describe()
    assert result["summary"]["restarted"] == 200, result["summary"]
    restarts = tenant.restarts()
    assert len(restarts) == 200 and set(restarts.values()) == {1}, "every job restarted exactly once"
    log = tenant.log()
    graph_times = [entry["time"] for entry in log if entry["kind"] == "graph"]
    assert max(graph_times) - min(graph_times) > 30, "the run did not outlast a token"
    tokens = tenant.token_requests(log)
    assert len(tokens) >= 2 and all(entry["status"] == 200 for entry in tokens), tokens
    used = [entry["body"]["assertion_jti"] for entry in tokens]
    assert len(set(used)) == len(used) and set(used) <= set(rotator.written), (used, rotator.written)
    rejected = [entry for entry in log if entry["status"] == 401]
    print("long run: %.1f s of Graph calls, %d token requests, %d rejected tokens, %d assertions written"
          % (max(graph_times) - min(graph_times), len(tokens), len(rejected), len(rotator.written)))


def test_managed_identity_system_and_user_assigned(tenant, run_tasks):
    ids = tenant.make_fleet({1: ["Quarantine"], 2: ["Quarantine"]})
    sandbox = tenant.sandbox
    identities = sandbox.config["managed_identity"]
    user = identities["user_assigned"]["client_id"]
    (sp1, job1), (sp2, job2) = ids[(1, 0)], ids[(2, 0)]
    # In Azure MSAL finds IMDS itself; here it is pointed at the sandbox (msal 1.39 reads this variable).
    env = dict(NO_SECRET, AZURE_POD_IDENTITY_AUTHORITY_HOST=sandbox.base_url)
    run = run_tasks(sandbox, [
        {"module": TOKEN, "args": {"managed_identity": "system"}},
        {"module": RESTART, "args": {"service_principal_id": sp1, "job_id": job1, "managed_identity": "system"}},
        {"module": TOKEN, "args": {"managed_identity": user}},
        # The user-assigned identity holds Synchronization.Read.All only: it can read (check mode), not restart.
        {"module": RESTART, "args": {"service_principal_id": sp2, "job_id": job2, "managed_identity": user}, "check_mode": True},
        {"module": RESTART, "args": {"service_principal_id": sp2, "job_id": job2, "managed_identity": user}},
    ], env=env)
    system_token, system_restart, user_token, user_check, user_restart = run.results
    assert not system_token.get("failed") and system_token["auth_method"] == "managed_identity", system_token
    assert system_token["scope"] == "https://graph.microsoft.com/.default"
    assert system_restart["action"] == "restarted" and system_restart["auth_method"] == "managed_identity", system_restart
    assert not user_token.get("failed") and user_token["auth_method"] == "managed_identity", user_token
    assert user_check["action"] == "would_restart", user_check
    assert user_restart["failed"] is True and "Synchronization.ReadWrite.All" in user_restart["msg"], user_restart
    tokens = _token_entries(tenant)
    assert [(entry["kind"], entry["body"]["identity"], entry["body"]["resource"]) for entry in tokens] == (
        [("managed_identity", "system", "https://graph.microsoft.com")] * 2 + [("managed_identity", "user", "https://graph.microsoft.com")] * 3
    ), tokens
    assert [entry["app_id"] for entry in tokens][2:] == [user] * 3
    assert tenant.restarts() == {(sp1, job1): 1}


def test_access_token_expiring_mid_run_fails_saying_how_to_let_it_refresh(tenant, run_tasks):
    jobs = _quarantined(tenant, 40)
    sandbox = tenant.sandbox
    # The run reads all 40 jobs (10 s at 500 ms and concurrency 2), then restarts them (10 s more): a 20 s token is
    # still good when the restarts begin, even after a slow ansible-playbook start, and has expired before they end.
    sandbox.admin.set_token_lifetime(20)
    token = sandbox.token()
    sandbox.admin.set_token_lifetime(3600)
    sandbox.admin.set_faults({"latency_ms": 500})
    tenant.clear()
    run = run_tasks(sandbox, [
        {"module": RESTART, "args": {"jobs": jobs, "restart_if": ["quarantined"], "concurrency": 2, "access_token": token}},
        # What the message advises: credentials beside the token. The token has expired by now; the module signs in.
        {"module": RESTART, "args": {"jobs": jobs, "restart_if": ["quarantined"], "concurrency": 10, "access_token": token,
                                     "client_secret": sandbox.env["AZURE_CLIENT_SECRET"]}},
    ], env=NO_SECRET)
    expiring, refreshing = run.results
    assert expiring["failed"] is True, expiring
    summary = expiring["summary"]
    assert summary["restarted"] >= 1 and summary["failed"] >= 1, summary
    assert summary["unknown"] == 0, summary
    failed = [entry for entry in expiring["results"] if entry["action"] == "failed"]
    for entry in failed:
        assert "graph_auth" in entry["reason"] and "client_secret" in entry["reason"], entry["reason"]
    assert "cannot be refreshed" in expiring["msg"], expiring["msg"]
    assert not refreshing.get("failed"), refreshing
    assert refreshing["summary"]["restarted"] == len(failed) and refreshing["summary"]["skipped"] == summary["restarted"], refreshing["summary"]
    restarts = tenant.restarts()
    assert len(restarts) == 40 and set(restarts.values()) == {1}, "every job restarted once over both tasks, none twice"
    tokens = _token_entries(tenant)
    assert len(tokens) == 1, "only the second task signed in"
    assert token not in run.output
    print("access_token expiring mid-run: %s; then with a secret beside it: %s, %d token request"
          % (summary, refreshing["summary"], len(tokens)))

"""entra.sync.sync_job_restart against the sandbox: check mode, convergence, reset scope, throttling, lost answers."""

RESTART = "entra.sync.sync_job_restart"

# sp 1: two quarantined jobs and an active one; sp 2: one quarantined, one failed; sp 3: one active, one quarantined.
LAYOUT = {
    1: ["Quarantine", "Active", "Quarantine"],
    2: ["Quarantine", ("Active", {"last_execution_state": "Failed"})],
    3: ["Active", "Quarantine"],
}


def _jobs_arg(ids, keys):
    return [{"service_principal_id": ids[key][0], "job_id": ids[key][1]} for key in keys]


def test_check_mode_sends_no_post_and_reports_would_restart(tenant, run_tasks):
    ids = tenant.make_fleet(LAYOUT)
    sandbox = tenant.sandbox
    list_keys = [(2, 0), (2, 1), (3, 0), (3, 1)]
    run = run_tasks(sandbox, [
        {"module": RESTART, "args": {"service_principal_id": ids[(1, 0)][0], "restart_if": ["quarantined"]}},
        {"module": RESTART, "args": {"jobs": _jobs_arg(ids, list_keys), "restart_if": ["quarantined"]}},
        {"module": RESTART, "args": {"service_principal_id": ids[(1, 0)][0], "job_id": ids[(1, 0)][1],
                                     "restart_if": ["quarantined"]}},
    ], check=True)
    assert run.rc == 0, run.describe()
    by_sp, by_list, one = run.results

    assert by_sp["changed"] is True and not by_sp.get("failed"), by_sp
    assert [r["action"] for r in by_sp["results"]] == ["would_restart", "skipped", "would_restart"]
    assert by_sp["summary"]["would_restart"] == 2 and by_sp["summary"]["restarted"] == 0

    assert [(r["service_principal_id"], r["job_id"]) for r in by_list["results"]] == [ids[k] for k in list_keys]
    assert [r["action"] for r in by_list["results"]] == ["would_restart", "skipped", "skipped", "would_restart"]
    assert all(r["status_code"] for r in by_list["results"])

    assert one["action"] == "would_restart" and one["status_code"] == "Quarantine" and one["changed"] is True

    log = tenant.log()
    assert tenant.graph_posts(log) == [], "check mode sent POSTs: %s" % tenant.graph_posts(log)
    assert [e for e in log if e["method"] == "POST" and e["kind"] != "token"] == []
    assert any(e["method"] == "GET" for e in log), "check mode must still read the jobs"
    assert tenant.admin.counters()["totals"]["restarts"] == 0
    # the jobs are untouched
    assert tenant.admin.job(*ids[(1, 0)])["summary"]["status_code"] == "Quarantine"


def test_restart_if_quarantined_restarts_exactly_those_and_converges(tenant, run_tasks):
    ids = tenant.make_fleet(LAYOUT)
    sandbox = tenant.sandbox
    list_keys = [(3, 1), (2, 0), (2, 1), (3, 0)]  # not in fleet order: results must follow this order
    tasks = [
        {"module": RESTART, "args": {"service_principal_id": ids[(1, 0)][0], "restart_if": ["quarantined"]}},
        {"module": RESTART, "args": {"jobs": _jobs_arg(ids, list_keys), "restart_if": ["quarantined"]}},
    ]
    first = run_tasks(sandbox, tasks)
    assert first.rc == 0, first.describe()
    by_sp, by_list = first.results
    assert by_sp["changed"] is True and by_list["changed"] is True
    assert [r["action"] for r in by_sp["results"]] == ["restarted", "skipped", "restarted"]
    assert [(r["service_principal_id"], r["job_id"]) for r in by_list["results"]] == [ids[k] for k in list_keys]
    assert [r["action"] for r in by_list["results"]] == ["restarted", "restarted", "skipped", "skipped"]
    summary = by_list["summary"]
    assert (summary["restarted"], summary["skipped"], summary["failed"], summary["unknown"], summary["total"]) == (2, 2, 0, 0, 4)

    quarantined = {ids[k] for k in [(1, 0), (1, 2), (2, 0), (3, 1)]}
    assert tenant.restarts() == {key: 1 for key in quarantined}
    assert len(tenant.restart_posts(tenant.log())) == 4

    tenant.admin.clear_log()
    second = run_tasks(sandbox, tasks)
    assert second.rc == 0, second.describe()
    for result in second.results:
        assert result["changed"] is False, result
        assert {r["action"] for r in result["results"]} == {"skipped"}
    assert tenant.graph_posts(tenant.log()) == []
    assert tenant.restarts() == {key: 1 for key in quarantined}


def test_reset_scope_sent_in_canonical_order_and_omitted_scope_sends_empty_criteria(tenant, run_tasks):
    ids = tenant.make_fleet({1: ["Quarantine", "Quarantine"]})
    sp_id, job_a = ids[(1, 0)]
    job_b = ids[(1, 1)][1]
    run = run_tasks(tenant.sandbox, [
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_a,
                                     "reset_scope": ["Watermark", "Escrows", "QuarantineState"]}},
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_b}},
    ])
    assert run.rc == 0, run.describe()
    scoped, default = run.results
    assert scoped["action"] == "restarted" and scoped["reset_scope"] == "Escrows, Watermark, QuarantineState"
    assert default["action"] == "restarted" and default["reset_scope"] is None

    log = tenant.log()
    (post_a,) = tenant.restart_posts(log, job_a)
    (post_b,) = tenant.restart_posts(log, job_b)
    assert post_a["body"] == {"criteria": {"resetScope": "Escrows, Watermark, QuarantineState"}}
    assert post_b["body"] == {"criteria": {}}
    jobs = tenant.admin.counters()["jobs"]
    assert jobs["%s/%s" % (sp_id, job_a)]["reset_scopes"] == ["Escrows, Watermark, QuarantineState"]
    assert jobs["%s/%s" % (sp_id, job_b)]["reset_scopes"] == [""]


def test_429_retry_after_is_honoured_and_job_restarted_once(tenant, run_task):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sp_id, job_id = ids[(1, 0)]
    tenant.admin.set_faults({"rules": [{"method": "POST", "path": "/restart$", "count": 1, "fault": "status",
                                        "status": 429, "retry_after": 0.5}]})
    run = run_task(tenant.sandbox, RESTART, {"service_principal_id": sp_id, "job_id": job_id})
    assert run.rc == 0, run.describe()
    assert run.result["action"] == "restarted" and run.result["changed"] is True

    posts = tenant.restart_posts(tenant.log(), job_id)
    assert [p["status"] for p in posts] == [429, 204], posts
    waited = posts[1]["time"] - posts[0]["time"]
    assert waited >= 0.45, "the retry came %.3f s after the 429 with Retry-After: 0.5" % waited
    assert tenant.restarts() == {(sp_id, job_id): 1}
    assert tenant.admin.counters()["faults"] == {"status_429": 1}


def test_a_pace_learned_from_429s_is_returned_and_passed_on_to_the_next_task(tenant, run_tasks):
    """A write bucket with no burst: the first task's first wave comes back 429 and it learns the pace; the second task,
    given that pace as write_rate, sends its first restarts at that pace instead of in a wave. Every job is restarted
    exactly once."""
    ids = tenant.make_fleet({index: ["Quarantine"] for index in range(1, 61)})
    tenant.admin.set_throttle(writes={"rate": 20, "burst": 1})
    first = [(index, 0) for index in range(1, 31)]
    second = [(index, 0) for index in range(31, 61)]
    run = run_tasks(tenant.sandbox, [
        {"module": RESTART, "args": {"jobs": _jobs_arg(ids, first), "concurrency": 20}},
        {"module": RESTART, "args": {"jobs": _jobs_arg(ids, second), "concurrency": 20,
                                     "write_rate": "{{ r0.throttling.write_rate }}"}},
    ])
    assert run.rc == 0, run.describe()
    learned = run.results[0]["throttling"]["write_rate"]
    assert learned is not None and 5 <= learned <= 40, run.results[0]["throttling"]
    assert run.results[1]["throttling"]["write_rate"] is not None
    # The first task sends a wave into the empty bucket: many of its first 20 POSTs are refused. The second starts at
    # the pace it is given and keeps at least it (easing waits 3 s, longer than the task): its POSTs reach the service
    # spread over most of their intervals at that pace. Only a lower bound on time, over every POST so that the jitter
    # of a busy machine (a delayed first request) is small beside it.
    opening = {"first": [], "second": []}
    first_jobs = {ids[key][1] for key in first}
    for entry in sorted(tenant.restart_posts(tenant.log()), key=lambda entry: entry["time"]):
        opening["first" if entry["path"].split("/")[-2] in first_jobs else "second"].append(entry)
    assert [entry["status"] for entry in opening["first"][:20]].count(429) >= 5, opening["first"][:20]
    spread = opening["second"][-1]["time"] - opening["second"][0]["time"]
    assert spread >= 0.7 * (len(opening["second"]) - 1) / learned, (spread, len(opening["second"]), learned)
    assert tenant.restarts() == {ids[key]: 1 for key in first + second}


def test_lost_response_is_unknown_not_resent_and_task_fails(tenant, run_task):
    ids = tenant.make_fleet({1: ["Quarantine", "Quarantine"]})
    sp_id, lost_job = ids[(1, 0)]
    fine_job = ids[(1, 1)][1]
    tenant.admin.set_faults({"rules": [{"method": "POST", "path": "/%s/restart$" % lost_job.replace(".", r"\."),
                                        "count": 1, "fault": "lost_response"}]})
    run = run_task(tenant.sandbox, RESTART, {
        "jobs": [{"service_principal_id": sp_id, "job_id": lost_job}, {"service_principal_id": sp_id, "job_id": fine_job}],
        "max_retries": 3,
    })
    assert run.rc == 0, run.describe()  # the task failed, ignore_errors kept the play going
    result = run.result
    assert result["failed"] is True, result
    lost, fine = result["results"]
    assert lost["job_id"] == lost_job and lost["action"] == "unknown", lost
    assert fine["job_id"] == fine_job and fine["action"] == "restarted", fine
    assert result["summary"]["unknown"] == 1 and result["summary"]["restarted"] == 1
    assert "unknown" in result["msg"]

    posts = tenant.restart_posts(tenant.log(), lost_job)
    assert len(posts) == 1, "the restart whose answer was lost was sent %d times" % len(posts)
    assert tenant.restarts() == {(sp_id, lost_job): 1, (sp_id, fine_job): 1}
    assert tenant.admin.counters()["faults"] == {"lost_response": 1}


def _only(job_id):
    return "/%s/restart$" % job_id.replace(".", r"\.")


def test_transient_faults_are_retried_only_when_safe(tenant, run_task):
    ids = tenant.make_fleet({1: ["Quarantine", "Quarantine", "Quarantine", "Quarantine"]})
    sp_id = ids[(1, 0)][0]
    busy, expired, dropped, garbled = (ids[(1, n)][1] for n in range(4))
    tenant.admin.set_faults({"rules": [
        {"method": "POST", "path": _only(busy), "count": 1, "fault": "status", "status": 503, "retry_after": 0.2},
        {"method": "POST", "path": _only(expired), "count": 1, "fault": "token_expired"},
        {"method": "POST", "path": _only(dropped), "count": 1, "fault": "reset"},
        {"method": "GET", "path": "/jobs/%s$" % garbled.replace(".", r"\."), "count": 1, "fault": "malformed"},
    ]})
    run = run_task(tenant.sandbox, RESTART, {"jobs": [{"service_principal_id": sp_id, "job_id": job}
                                                      for job in (busy, expired, dropped, garbled)]})
    assert run.rc == 0, run.describe()
    actions = {r["job_id"]: r["action"] for r in run.result["results"]}
    # 503 and 401 InvalidAuthenticationToken: the service did not act, so the POST is sent again (after a new token)
    assert actions[busy] == "restarted" and actions[expired] == "restarted"
    # a malformed answer to a GET: reads are safe to repeat
    assert actions[garbled] == "restarted"
    # the connection dropped after the POST went out: the client cannot know, so it does not resend
    assert actions[dropped] == "unknown"
    assert run.result["failed"] is True

    log = tenant.log()
    assert [p["status"] for p in tenant.restart_posts(log, busy)] == [503, 204]
    assert [p["status"] for p in tenant.restart_posts(log, expired)] == [401, 204]
    assert len(tenant.restart_posts(log, dropped)) == 1
    assert len(tenant.token_requests(log)) == 2, "one sign-in, and one refresh after the rejected token"
    assert tenant.restarts() == {(sp_id, busy): 1, (sp_id, expired): 1, (sp_id, garbled): 1}
    assert tenant.admin.counters()["faults"] == {"status_503": 1, "token_expired": 1, "reset": 1, "malformed": 1}

"""The self-heal source's state tracking: transitions, relapse counting, no repeated events, pruning; a fake clock."""

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._heal.heal_state import (
    HEAL_ACTIONS,
    HealPolicy,
    HealTracker,
    backoff_delay,
    decide_heal,
    order_events,
    scan_error_event,
)
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import parse_job

SP = "11111111-2222-3333-4444-555555555555"
DAY = 86400


def graph_job(code="Active", reason=None, began="2026-11-01T10:00:00Z", last="Succeeded", actionable=False, job_id="scim.1"):
    status = {"code": code, "lastExecution": {"state": last}}
    if reason is not None:
        status["quarantine"] = {"reason": reason, "currentBegan": began,
                                "error": {"code": "SomeError", "message": "m", "tenantActionable": actionable}}
    return parse_job({"id": job_id, "templateId": "scim", "schedule": {"state": "Active"}, "status": status}, {"id": SP})


def quarantined(began="2026-11-01T10:00:00Z", reason="EncounteredQuarantineException", actionable=False, job_id="scim.1"):
    return graph_job("Quarantine", reason, began, "Failed", actionable, job_id)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def tick(self, seconds):
        self.now += seconds
        return self.now


@pytest.fixture
def clock():
    return Clock()


def observe(tracker, job, clock, initial=False):
    event = tracker.observe(job, clock.now, "t%d" % clock.now, {"tenant_id": "contoso"}, initial)
    return event["entra_sync"] if event else None


def test_first_scan_emits_every_unhealthy_job_and_nothing_for_healthy_ones(clock):
    tracker = HealTracker(DAY)
    assert observe(tracker, graph_job(), clock, initial=True) is None
    event = observe(tracker, quarantined(), clock, initial=True)
    assert event["type"] == "unhealthy"
    assert event["conditions"] == ["quarantined", "failed"]
    assert event["previous_conditions"] == []
    assert event["relapses"] == 1
    assert event["job"]["status_code"] == "Quarantine"
    assert event["job"]["tenant_id"] == "contoso"
    assert event["observed_at"] == "t1000"


def test_emit_initial_false_records_the_first_scan_silently(clock):
    tracker = HealTracker(DAY, emit_initial=False)
    assert observe(tracker, quarantined(), clock, initial=True) is None
    clock.tick(60)
    assert observe(tracker, quarantined(), clock) is None
    assert observe(tracker, graph_job(), clock)["type"] == "recovered"


def test_an_unchanged_state_gives_no_event(clock):
    tracker = HealTracker(DAY)
    observe(tracker, quarantined(), clock, initial=True)
    for _poll in range(5):
        clock.tick(300)
        assert observe(tracker, quarantined(), clock) is None


def test_recovered_when_the_job_leaves_every_condition(clock):
    tracker = HealTracker(DAY)
    observe(tracker, quarantined(), clock, initial=True)
    clock.tick(300)
    event = observe(tracker, graph_job(), clock)
    assert event["type"] == "recovered"
    assert event["conditions"] == []
    assert event["previous_conditions"] == ["quarantined", "failed"]
    assert event["heal"]["action"] == "none"
    clock.tick(300)
    assert observe(tracker, graph_job(), clock) is None


def test_a_new_quarantine_while_still_quarantined_is_a_relapse(clock):
    """A restart followed by a relapse inside one poll interval: the status looks the same, the quarantine start does not."""
    tracker = HealTracker(DAY)
    first = observe(tracker, quarantined(began="2026-11-01T10:00:00Z"), clock, initial=True)
    clock.tick(300)
    again = observe(tracker, quarantined(began="2026-11-01T10:04:00Z"), clock)
    assert again["type"] == "unhealthy"
    assert again["entered"] == ["quarantined"]
    assert (first["relapses"], again["relapses"]) == (1, 2)
    assert first["episode"] != again["episode"]


def test_relapses_count_only_entries_inside_the_window(clock):
    tracker = HealTracker(3600)
    observe(tracker, quarantined(), clock, initial=True)
    clock.tick(600)
    observe(tracker, graph_job(), clock)
    clock.tick(600)
    assert observe(tracker, quarantined(began="2026-11-01T11:00:00Z"), clock)["relapses"] == 2
    clock.tick(600)
    observe(tracker, graph_job(), clock)
    clock.tick(2500)  # the first entry (at 1000) is now older than the window, the second (at 2200) is not
    assert observe(tracker, quarantined(began="2026-11-01T12:00:00Z"), clock)["relapses"] == 2


def test_prune_keeps_history_inside_the_window(clock):
    tracker = HealTracker(3600)
    for index in range(50):
        observe(tracker, graph_job(job_id="j%d" % index), clock, initial=True)
        observe(tracker, quarantined(began="b%d" % index, job_id="j%d" % index), clock)
    assert tracker.history_size() == 50
    clock.tick(3600)
    tracker.prune(clock.now)
    assert tracker.history_size() == 0
    assert len(tracker) == 50


def test_forget_missing_drops_jobs_a_discovery_no_longer_finds(clock):
    tracker = HealTracker(DAY)
    observe(tracker, quarantined(), clock, initial=True)
    observe(tracker, graph_job(job_id="other"), clock, initial=True)
    assert tracker.forget_missing({"%s/other" % SP}) == 1
    assert len(tracker) == 1


def test_entering_another_condition_is_unhealthy_with_only_the_new_one_entered(clock):
    tracker = HealTracker(DAY)
    observe(tracker, graph_job(last="EntryLevelErrors"), clock, initial=True)
    clock.tick(60)
    event = observe(tracker, quarantined(), clock)
    assert event["entered"] == ["quarantined", "failed"]
    assert event["previous_conditions"] == ["entry_errors"]
    clock.tick(60)
    event = observe(tracker, graph_job("Quarantine", "EncounteredQuarantineException", last="EntryLevelErrors"), clock)
    assert event["type"] == "unhealthy"
    assert event["entered"] == ["entry_errors"]
    assert event["heal"]["action"] == "none"


def test_decide_heal_restarts_up_to_max_restarts_then_escalates():
    policy = HealPolicy(max_restarts=2)
    assert decide_heal(quarantined(), ["quarantined"], 1, policy)["action"] == "restart"
    assert decide_heal(quarantined(), ["quarantined"], 2, policy)["action"] == "restart"
    escalated = decide_heal(quarantined(), ["quarantined"], 3, policy)
    assert escalated["action"] == "escalate"
    assert "3 times" in escalated["reason"]


def test_decide_heal_escalates_listed_reasons_and_tenant_actionable_errors_at_once():
    policy = HealPolicy()
    too_many = decide_heal(quarantined(reason="TooManyDeletes"), ["quarantined"], 1, policy)
    assert too_many["action"] == "escalate" and "TooManyDeletes" in too_many["reason"]
    actionable = decide_heal(quarantined(actionable=True), ["quarantined"], 1, policy)
    assert actionable["action"] == "escalate" and "remedy credentials" in actionable["reason"]
    assert decide_heal(quarantined(), ["failed"], 1, policy)["action"] == "none"
    # escalate_reasons still escalates a reason whose remedy is restart
    listed = decide_heal(quarantined(reason="EncounteredBaseEscrowThreshold"), ["quarantined"], 1, HealPolicy(1, ("EncounteredBaseEscrowThreshold",)))
    assert listed["action"] == "escalate" and "escalate_reasons" in listed["reason"]


def coded(code, reason="EncounteredQuarantineException", status="Quarantine", pruned=None):
    raw = {"id": "scim.1", "templateId": "scim", "schedule": {"state": "Active"}, "status": {
        "code": status, "escrowsPruned": pruned, "lastExecution": {"state": "Failed"},
        "quarantine": {"reason": reason, "currentBegan": "2026-11-01T10:00:00Z", "seriesBegan": "2026-11-01T10:00:00Z",
                       "error": {"code": code, "message": "m", "tenantActionable": False} if code else None} if reason is not None else None}}
    return parse_job(raw, {"id": SP})


# (job, entered) -> heal.action, following the remedy: restart only what a restart can fix
HEAL_TABLE = [
    (coded(None, "EncounteredEscrowProportionThreshold"), ["quarantined"], "restart"),
    (coded(None, "EncounteredTotalEscrowThreshold"), ["quarantined"], "restart"),
    (coded("SomeTransientError"), ["quarantined"], "restart"),
    (coded("SystemForCrossDomainIdentityManagementCredentialValidationFailure"), ["quarantined"], "escalate"),
    (coded("HybridIdentityServiceNoActiveAgents"), ["quarantined"], "escalate"),
    (coded(None, "TooManyDeletes"), ["quarantined"], "escalate"),
    (coded(None, "QuarantineOnDemand"), ["quarantined"], "escalate"),
    (coded(None, "Unknown"), ["quarantined"], "escalate"),
    (coded(None, None, status="Paused", pruned=True), ["paused"], "escalate"),
    (coded(None, "TooManyDeletes", status="Paused"), ["paused"], "escalate"),
    (coded(None, "EncounteredBaseEscrowThreshold", status="Paused"), ["paused"], "none"),
    (coded(None, None, status="Paused"), ["paused"], "none"),
    (coded(None, "TooManyDeletes"), ["failed"], "none"),
]


@pytest.mark.parametrize("job, entered, action", HEAL_TABLE)
def test_heal_action_follows_the_remedy(job, entered, action):
    heal = decide_heal(job, entered, 1, HealPolicy(escalate_reasons=()))
    assert heal["action"] == action and heal["action"] in HEAL_ACTIONS and heal["reason"]


def test_events_carry_the_remedy_and_escalations_about_to_disable_a_job_come_first(clock):
    tracker = HealTracker(DAY, HealPolicy())
    soon = coded(None, "TooManyDeletes")  # seriesBegan 2026-11-01: disabled 2026-11-29
    later = graph_job("Quarantine", "TooManyDeletes", job_id="scim.2")  # no seriesBegan: unknown
    restart = coded(None, "EncounteredBaseEscrowThreshold")
    events = [tracker.observe(job, clock.now, "2026-11-25T00:00:00Z", {"tenant_id": "t"}) for job in (later, restart)]
    events.append(HealTracker(DAY, HealPolicy()).observe(soon, clock.now, "2026-11-25T00:00:00Z", {"tenant_id": "t"}))
    bodies = [event["entra_sync"] for event in order_events(events)]
    assert [(body["job"]["job_id"], body["heal"]["action"], body["heal"]["disables_soon"]) for body in bodies] == [
        ("scim.1", "escalate", True), ("scim.2", "escalate", False), ("scim.1", "restart", True)]
    assert bodies[0]["job"]["remedy"] == "approve_deletes" and bodies[0]["job"]["disables_at"] == "2026-11-29T10:00:00Z"
    assert bodies[0]["job"]["remedy_reason"] and bodies[0]["job"]["tenant_id"] == "t"
    assert bodies[2]["job"]["remedy"] == "restart"


def test_policy_from_options_refuses_bad_values():
    assert HealPolicy.from_options(0, ["tooManyDeletes"]).escalates_reason("TooManyDeletes")
    for bad in (-1, "1", True, 1.5):
        with pytest.raises(InputError, match="max_restarts"):
            HealPolicy.from_options(bad, [])
    with pytest.raises(InputError, match="escalate_reasons"):
        HealPolicy.from_options(1, [""])


def test_scan_error_event_has_the_event_shape():
    event = scan_error_event("poll", "connection refused", 2, 4, "now", failed_reads=3)["entra_sync"]
    assert event["type"] == "scan_error"
    assert (event["consecutive_failures"], event["retry_in"], event["failed_reads"]) == (2, 4, 3)
    assert event["job"] is None and event["conditions"] == []


def test_backoff_doubles_and_is_capped():
    assert backoff_delay(5, 0) == 5
    assert [backoff_delay(1, n) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]
    assert backoff_delay(300, 3) == 1200

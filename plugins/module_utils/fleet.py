# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running the job decisions over many jobs: a bounded worker pool, one result per job, in input order."""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from ansible_collections.entra.sync.plugins.module_utils.decisions import decide_restart, decide_state, expected_status
from ansible_collections.entra.sync.plugins.module_utils.exceptions import AuthError, EntraSyncError, GraphError
from ansible_collections.entra.sync.plugins.module_utils.job import job_from_dict, parse_datetime, parse_job, status_diff
from ansible_collections.entra.sync.plugins.module_utils.scope import restart_body
from ansible_collections.entra.sync.plugins.module_utils.waiting import FATAL_STATUSES, Watch, report, wait_for

MAX_CONCURRENCY = 64


def run_bounded(items, worker, concurrency):
    """worker(item) for every item, at most `concurrency` at a time; results keep the input order."""
    items = list(items)
    if concurrency <= 1 or len(items) <= 1:
        return [worker(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(worker, items))


@dataclass(frozen=True)
class RestartPlan:
    """What to do with each job: the conditions, the scope and whether this is a dry run."""

    conditions: tuple
    reset_scope: str = None
    check_mode: bool = False

    @property
    def body(self):
        return restart_body(self.reset_scope)


@dataclass
class Outcome:
    """One job's result, and the status found (kept for diff mode, not returned as is).

    For a job that was restarted (or started/paused): ``job`` is the Job read before, ``sent_at`` the UTC time just
    before the POST left and ``done_clock`` the monotonic time its answer came back (wait starts there).
    """

    result: dict
    found: dict = None
    job: object = None
    sent_at: datetime = None
    done_clock: float = None
    expected: dict = None


def _read(api, target):
    """(Job, None) for a job named by the user, or (None, the reason it could not be read)."""
    try:
        raw = api.get_job(target.service_principal_id, target.job_id)
    except EntraSyncError as exc:
        return None, "reading the job failed: %s" % exc
    if not isinstance(raw, dict) or not raw.get("id"):
        return None, "Graph returned no job for this id"
    # The ids the user gave are the ones acted on, whatever the body says.
    job = replace(parse_job(raw, {"id": target.service_principal_id}), service_principal_id=target.service_principal_id, job_id=target.job_id)
    return job, None


def _post_outcome(send, verb):
    """Send one POST; (action_if_it_failed or None, reason). Never resends: GraphClient already retries only when safe."""
    try:
        send()
    except GraphError as exc:
        return ("unknown" if exc.outcome_unknown else "failed"), str(exc)
    except AuthError as exc:
        return "failed", str(exc)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # Never lose the other jobs' results; the POST may have left, so the outcome is unknown.
        return "unknown", "unexpected %s while %s" % (type(exc).__name__, verb)
    return None, None


def _result(plan, service_principal_id, job_id, action, reason, job=None):
    return {
        "service_principal_id": service_principal_id,
        "job_id": job_id,
        "template_id": job.template_id if job else None,
        "status_code": job.status_code if job else None,
        "action": action,
        "reason": reason,
        "reset_scope": plan.reset_scope,
    }


class Restarter:
    """Reads, decides and restarts; never sends a restart twice for one job in one run."""

    def __init__(self, api, plan):
        self.api = api
        self.plan = plan

    def restart_target(self, target):
        """A job named by the user: read its status first, then decide."""
        job, error = _read(self.api, target)
        if job is None:
            return Outcome(_result(self.plan, target.service_principal_id, target.job_id, "failed", error))
        return self.restart_found(job)

    def restart_found(self, job):
        """A job whose status was just read: decide, then restart unless this is check mode."""
        decision = decide_restart(job, self.plan.conditions)
        found = status_diff(job)
        sp_id, job_id = job.service_principal_id, job.job_id
        if not decision.restart:
            return Outcome(_result(self.plan, sp_id, job_id, "skipped", decision.reason, job), found, job)
        if self.plan.check_mode:
            return Outcome(_result(self.plan, sp_id, job_id, "would_restart", decision.reason, job), found, job)
        sent_at = datetime.now(timezone.utc)
        failure, error = _post_outcome(lambda: self.api.restart(sp_id, job_id, self.plan.body), "restarting")
        if failure:
            return Outcome(_result(self.plan, sp_id, job_id, failure, error, job), found, job)
        return Outcome(_result(self.plan, sp_id, job_id, "restarted", decision.reason, job), found, job, sent_at, time.monotonic())

    def restart_service_principal(self, service_principal_id, template_id=None, concurrency=1):
        """Every job of one service principal (optionally one template), from a single list call."""
        raw_jobs = self.api.list_jobs(service_principal_id)
        jobs = [parse_job(raw, {"id": service_principal_id}) for raw in raw_jobs]
        if template_id:
            jobs = [job for job in jobs if (job.template_id or "").lower() == template_id.lower()]
        return run_bounded(jobs, self.restart_found, concurrency)

    def restart_targets(self, targets, concurrency):
        return run_bounded(targets, self.restart_target, concurrency)

    def restart_many(self, targets, concurrency, given=None):
        """Many jobs, in phases: read the jobs whose status is not given (batched when the api batches reads), decide
        every job, then send the restarts (batched when the api batches writes). Same results as restart_targets.

        ``given`` maps a target's index to the Job whose status to trust instead of reading it (see given_statuses).
        """
        given = given or {}
        jobs = [given.get(target.index) for target in targets]
        outcomes = [None] * len(targets)
        to_read = [i for i, job in enumerate(jobs) if job is None]
        if to_read:
            answers = self.api.get_jobs_many([(targets[i].service_principal_id, targets[i].job_id) for i in to_read], concurrency)
            for i, (raw, error) in zip(to_read, answers, strict=True):
                target = targets[i]
                if error is not None:
                    outcomes[i] = Outcome(_result(self.plan, target.service_principal_id, target.job_id, "failed", "reading the job failed: %s" % error))
                elif not isinstance(raw, dict) or not raw.get("id"):
                    outcomes[i] = Outcome(_result(self.plan, target.service_principal_id, target.job_id, "failed", "Graph returned no job for this id"))
                else:
                    jobs[i] = replace(parse_job(raw, {"id": target.service_principal_id}),
                                      service_principal_id=target.service_principal_id, job_id=target.job_id)
        send, reasons = [], {}
        for i, job in enumerate(jobs):
            if outcomes[i] is not None:
                continue
            decision = decide_restart(job, self.plan.conditions)
            found = status_diff(job)
            action = None
            if not decision.restart:
                action = "skipped"
            elif self.plan.check_mode:
                action = "would_restart"
            if action:
                outcomes[i] = Outcome(_result(self.plan, job.service_principal_id, job.job_id, action, decision.reason, job), found, job)
            else:
                send.append(i)
                reasons[i] = (decision.reason, found)
        if not send:
            return outcomes
        sent_at = {}

        def on_sent(indexes):
            now = datetime.now(timezone.utc)
            for index in indexes:
                sent_at[send[index]] = now

        answers = self.api.restart_many([(jobs[i].service_principal_id, jobs[i].job_id) for i in send], self.plan.body, concurrency, on_sent)
        done = time.monotonic()
        for i, (_value, error) in zip(send, answers, strict=True):
            job = jobs[i]
            reason, found = reasons[i]
            if error is not None:
                failure = "unknown" if getattr(error, "outcome_unknown", False) else "failed"
                outcomes[i] = Outcome(_result(self.plan, job.service_principal_id, job.job_id, failure, str(error), job), found, job)
            else:
                outcomes[i] = Outcome(_result(self.plan, job.service_principal_id, job.job_id, "restarted", reason, job), found, job,
                                      sent_at.get(i, datetime.now(timezone.utc)), done)
        return outcomes

    def wait_healthy(self, outcomes, policy, concurrency, clock=time.monotonic, sleep=time.sleep):
        """After the restarts: poll each restarted job (GET only) until healthy, relapsed or wait_timeout.

        Adds ``wait`` to every result: the waiting.report dict for a restarted job, None for the others. All
        restarted jobs are waited on together, at most ``concurrency`` polls at a time. Returns the outcomes.
        """
        watches = [
            Watch.begin(index, outcome.job, outcome.sent_at, outcome.done_clock, policy)
            for index, outcome in enumerate(outcomes)
            if outcome.result["action"] == "restarted" and outcome.done_clock is not None
        ]

        def poll(watch):
            result = outcomes[watch.key].result
            return poll_job(self.api, result["service_principal_id"], result["job_id"])

        finished = wait_for(watches, poll, policy, lambda items, worker: run_bounded(items, worker, concurrency), clock, sleep)
        for outcome in outcomes:
            outcome.result["wait"] = None
        for watch in finished:
            outcomes[watch.key].result["wait"] = report(watch, policy)
        return outcomes


def given_statuses(items, targets, max_age, now=None):
    """{target index: Job} for the jobs items whose status can be trusted instead of read again.

    An item is trusted when it carries a status_code and, when it says when that status was read
    (status_read_at, ISO 8601, as sync_job_info returns it), that was at most max_age seconds ago.
    Everything else is read again first.
    """
    now = now or datetime.now(timezone.utc)
    given = {}
    for target in targets:
        item = items[target.index] if 0 <= target.index < len(items) else None
        if not isinstance(item, dict) or not item.get("status_code"):
            continue
        read_at = item.get("status_read_at")
        if read_at is not None:
            when = parse_datetime(read_at)
            if when is None or (now - when).total_seconds() > max_age:
                continue
        given[target.index] = replace(job_from_dict(item), service_principal_id=target.service_principal_id, job_id=target.job_id)
    return given


def poll_job(api, service_principal_id, job_id):
    """One wait poll: (Job, None, False), or (None, error, fatal) where fatal means no later poll can succeed."""
    try:
        raw = api.get_job(service_principal_id, job_id)
    except GraphError as exc:
        return None, str(exc), exc.status in FATAL_STATUSES
    except AuthError as exc:
        return None, str(exc), True
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return None, "unexpected %s while reading the job" % type(exc).__name__, True
    if not isinstance(raw, dict) or not raw.get("id"):
        return None, "Graph returned no job for this id", False
    return parse_job(raw, {"id": service_principal_id}), None, False


class StateSetter:
    """sync_job: reads each job, then POSTs start or pause only when decisions.decide_state says so; never twice."""

    def __init__(self, api, state, check_mode=False):
        self.api = api
        self.state = state
        self.check_mode = check_mode

    @staticmethod
    def _result(target, action, reason, job=None):
        return {
            "service_principal_id": target.service_principal_id,
            "job_id": target.job_id,
            "template_id": job.template_id if job else None,
            "status_code": job.status_code if job else None,
            "action": action,
            "reason": reason,
        }

    def set_target(self, target):
        job, error = _read(self.api, target)
        if job is None:
            return Outcome(self._result(target, "failed", error))
        decision = decide_state(job, self.state)
        found = status_diff(job)
        if not decision.act:
            return Outcome(self._result(target, decision.action, decision.reason, job), found, job)
        expected = expected_status(job, self.state)
        if self.check_mode:
            return Outcome(self._result(target, decision.check_action(), decision.reason, job), found, job, expected=expected)
        send = self.api.start if self.state == "started" else self.api.pause
        sent_at = datetime.now(timezone.utc)
        verb = "starting" if self.state == "started" else "pausing"
        failure, error = _post_outcome(lambda: send(target.service_principal_id, target.job_id), verb)
        if failure:
            return Outcome(self._result(target, failure, error, job), found, job)
        return Outcome(self._result(target, decision.action, decision.reason, job), found, job, sent_at, time.monotonic(), expected)

    def set_targets(self, targets, concurrency):
        return run_bounded(targets, self.set_target, concurrency)

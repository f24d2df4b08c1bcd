# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one read -> decide -> send path, for one job, a service principal's jobs or a `jobs:` list.

    targets --read (or trust a given status)--> Job --decide (pure, decisions.py)--> Step --send--> Outcome

run_jobs() is that path. Restarter gives it the restart decision and POST restart, StateSetter (state.py) the
start/pause decision and POST start/pause. Reads and sends go through SyncApi's *_many calls, which use $batch when
the api batches and the bounded pool otherwise; a job is sent at most one POST per run, whatever happens.
"""

import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, GraphError
from ansible_collections.entra.sync.plugins.module_utils._graph.concurrency import run_bounded
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import job_from_dict, parse_datetime, parse_job, status_diff
from ansible_collections.entra.sync.plugins.module_utils._jobs.remedy import decide_restart_remedy
from ansible_collections.entra.sync.plugins.module_utils._jobs.results import job_result
from ansible_collections.entra.sync.plugins.module_utils._jobs.scope import restart_body
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import JobTarget
from ansible_collections.entra.sync.plugins.module_utils._jobs.waiting import FATAL_STATUSES, Watch, report, wait_for
from ansible_collections.entra.sync.plugins.module_utils._service.discovery import JobFilter

NO_JOB = "Graph returned no job for this id"


@dataclass
class Outcome:
    """One job's result, and the status found (kept for diff mode, not returned as is).

    For a job that was sent a POST: ``job`` is the Job read before, ``sent_at`` the UTC time just before the POST
    left, ``done_clock`` the monotonic time its answer came back (wait starts there) and ``expected`` the status
    a start/pause should lead to.
    """

    result: dict
    found: dict = None
    job: object = None
    sent_at: datetime = None
    done_clock: float = None
    expected: dict = None


@dataclass(frozen=True)
class Step:
    """What the decision says about one job: the action to report, why, and whether to send the POST.

    When ``send`` is true, ``action`` is the action reported once the POST succeeded. ``remedy`` is what fixes the job
    (remedy.Remedy.to_dict()), reported with it.
    """

    action: str
    reason: str
    send: bool = False
    expected: dict = None
    remedy: dict = None


def read_job(raw, target):
    """(Job, None) from a raw job read for a target, or (None, the reason it is refused).

    The ids the user gave are the ones acted on, whatever the body says.
    """
    if not isinstance(raw, dict) or not raw.get("id"):
        return None, NO_JOB
    job = parse_job(raw, {"id": target.service_principal_id})
    return replace(job, service_principal_id=target.service_principal_id, job_id=target.job_id), None


def read_targets(api, targets, given, concurrency):
    """[Job or None], {index: reason a job could not be read}: the given Jobs kept, the others read (one read each)."""
    jobs = [given.get(target.index) for target in targets]
    errors = {}
    to_read = [index for index, job in enumerate(jobs) if job is None]
    if not to_read:
        return jobs, errors
    answers = api.get_jobs_many([(targets[i].service_principal_id, targets[i].job_id) for i in to_read], concurrency)
    for index, (raw, error) in zip(to_read, answers, strict=True):
        if error is not None:
            errors[index] = "reading the job failed: %s" % error
            continue
        jobs[index], refused = read_job(raw, targets[index])
        if refused:
            errors[index] = refused
    return jobs, errors


def send_steps(jobs, steps, send_many, concurrency, extra):
    """Send the POST of every step that says so; {index: Outcome} of those jobs."""
    sent_at = {}

    def on_sent(positions):
        now = datetime.now(timezone.utc)
        for position in positions:
            sent_at[position] = now

    indexes = list(steps)
    answers = send_many([(jobs[i].service_principal_id, jobs[i].job_id) for i in indexes], concurrency, on_sent)
    done = time.monotonic()
    outcomes = {}
    for position, (index, (_value, error)) in enumerate(zip(indexes, answers, strict=True)):
        job, step = jobs[index], steps[index]
        found = status_diff(job)
        if error is not None:
            failure = "unknown" if error.outcome_unknown else "failed"
            outcomes[index] = Outcome(job_result(job.service_principal_id, job.job_id, failure, str(error), job, extra, step.remedy), found, job)
        else:
            outcomes[index] = Outcome(job_result(job.service_principal_id, job.job_id, step.action, step.reason, job, extra, step.remedy), found, job,
                                      sent_at.get(position, datetime.now(timezone.utc)), done, step.expected)
    return outcomes


def run_jobs(api, targets, decide, send_many, concurrency, given=None, extra=None):
    """The one path: read what is not given, decide each job, send the POSTs; one Outcome per target, in order.

    decide(Job) -> Step (pure). send_many(pairs, concurrency, on_sent) -> [(None, error or None)] (SyncApi.*_many).
    """
    jobs, errors = read_targets(api, targets, given or {}, concurrency)
    outcomes = [None] * len(targets)
    steps = {}
    for index, (target, job) in enumerate(zip(targets, jobs, strict=True)):
        if index in errors:
            outcomes[index] = Outcome(job_result(target.service_principal_id, target.job_id, "failed", errors[index], extra=extra))
            continue
        step = decide(job)
        if step.send:
            steps[index] = step
        else:
            result = job_result(job.service_principal_id, job.job_id, step.action, step.reason, job, extra, step.remedy)
            outcomes[index] = Outcome(result, status_diff(job), job, expected=step.expected)
    if steps:
        for index, outcome in send_steps(jobs, steps, send_many, concurrency, extra).items():
            outcomes[index] = outcome
    return outcomes


@dataclass(frozen=True)
class RestartPlan:
    """What to do with each job: the conditions, the scope, whether this is a dry run, the remedies a restart is for
    (restart_remedies; None: any) and whether a Paused job with escrowsPruned may be restarted."""

    conditions: tuple
    reset_scope: str = None
    check_mode: bool = False
    remedies: tuple = None
    allow_escrows_pruned: bool = False

    @property
    def body(self):
        return restart_body(self.reset_scope)

    def step(self, job):
        """The restart decision (remedy.decide_restart_remedy) as a Step, with the job's remedy."""
        decision, diagnosis = decide_restart_remedy(job, self.conditions, self.remedies, self.allow_escrows_pruned)
        remedy = diagnosis.to_dict()
        if not decision.restart:
            return Step("skipped", decision.reason, remedy=remedy)
        if self.check_mode:
            return Step("would_restart", decision.reason, remedy=remedy)
        return Step("restarted", decision.reason, send=True, remedy=remedy)


class Restarter:
    """Reads, decides and restarts through run_jobs; never sends a restart twice for one job in one run."""

    def __init__(self, api, plan):
        self.api = api
        self.plan = plan

    def restart_many(self, targets, concurrency=1, given=None):
        """Any number of named jobs (JobTarget list): one Outcome each, in order.

        ``given`` maps a target's index to the Job whose status to trust instead of reading it (see given_statuses).
        """
        return run_jobs(self.api, targets, self.plan.step, self._send, concurrency, given, {"reset_scope": self.plan.reset_scope})

    def restart_service_principal(self, service_principal_id, template_ids=None, concurrency=1):
        """Every job of one service principal (optionally of some templates): the list call gives their statuses."""
        targets, given = service_principal_targets(self.api, service_principal_id, JobFilter.from_lists(template_ids))
        return self.restart_many(targets, concurrency, given)

    def _send(self, pairs, concurrency, on_sent):
        return self.api.restart_many(pairs, self.plan.body, concurrency, on_sent)

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


def service_principal_targets(api, service_principal_id, job_filter):
    """(targets, given) for the jobs of one service principal that pass job_filter, from a single list call.

    Raises the list call's EntraSyncError: there is nothing to act on without it.
    """
    jobs = job_filter.select(parse_job(raw, {"id": service_principal_id}) for raw in api.list_jobs(service_principal_id))
    targets = [JobTarget(service_principal_id, job.job_id, index) for index, job in enumerate(jobs)]
    return targets, dict(enumerate(jobs))


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
        return None, NO_JOB, False
    return parse_job(raw, {"id": service_principal_id}), None, False

# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running the job decisions over many jobs: a bounded worker pool, one result per job, in input order."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from ansible_collections.entra.sync.plugins.module_utils.auth import AuthError
from ansible_collections.entra.sync.plugins.module_utils.graph import GraphError
from ansible_collections.entra.sync.plugins.module_utils.jobs import decide_restart, parse_job, restart_body, status_diff

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
    """One job's result, and the status found (kept for diff mode, not returned as is)."""

    result: dict
    found: dict = None


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
        try:
            raw = self.api.get_job(target.service_principal_id, target.job_id)
        except (GraphError, AuthError) as exc:
            return Outcome(_result(self.plan, target.service_principal_id, target.job_id, "failed", "reading the job failed: %s" % exc))
        if not isinstance(raw, dict) or not raw.get("id"):
            return Outcome(_result(self.plan, target.service_principal_id, target.job_id, "failed", "Graph returned no job for this id"))
        # The ids the user gave are the ones acted on, whatever the body says.
        job = replace(parse_job(raw, {"id": target.service_principal_id}), service_principal_id=target.service_principal_id, job_id=target.job_id)
        return self.restart_found(job)

    def restart_found(self, job):
        """A job whose status was just read: decide, then restart unless this is check mode."""
        decision = decide_restart(job, self.plan.conditions)
        found = status_diff(job)
        sp_id, job_id = job.service_principal_id, job.job_id
        if not decision.restart:
            return Outcome(_result(self.plan, sp_id, job_id, "skipped", decision.reason, job), found)
        if self.plan.check_mode:
            return Outcome(_result(self.plan, sp_id, job_id, "would_restart", decision.reason, job), found)
        try:
            self.api.restart(sp_id, job_id, self.plan.body)
        except GraphError as exc:
            action = "unknown" if exc.outcome_unknown else "failed"
            return Outcome(_result(self.plan, sp_id, job_id, action, str(exc), job), found)
        except AuthError as exc:
            return Outcome(_result(self.plan, sp_id, job_id, "failed", str(exc), job), found)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Never lose the other jobs' results; the restart may have left, so the outcome is unknown.
            return Outcome(_result(self.plan, sp_id, job_id, "unknown", "unexpected %s while restarting" % type(exc).__name__, job), found)
        return Outcome(_result(self.plan, sp_id, job_id, "restarted", decision.reason, job), found)

    def restart_service_principal(self, service_principal_id, template_id=None, concurrency=1):
        """Every job of one service principal (optionally one template), from a single list call."""
        raw_jobs = self.api.list_jobs(service_principal_id)
        jobs = [parse_job(raw, {"id": service_principal_id}) for raw in raw_jobs]
        if template_id:
            jobs = [job for job in jobs if (job.template_id or "").lower() == template_id.lower()]
        return run_bounded(jobs, self.restart_found, concurrency)

    def restart_targets(self, targets, concurrency):
        return run_bounded(targets, self.restart_target, concurrency)

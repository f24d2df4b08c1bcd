# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet.Restarter under the controller-local job leases (lease.py): what sync_job_restart runs outside check mode.

Each decision is made while the job's lease is held, and on a status read again under it when a run on this controller
sent a restart of that job after the status in hand was read: so a self-heal restart and a fleet run started together
never restart one job twice. A job whose lease another run holds past the timeout is reported failed, not restarted.
"""

import time

from ansible_collections.entra.sync.plugins.module_utils.fleet import Outcome, Restarter, _read, _result
from ansible_collections.entra.sync.plugins.module_utils.jobs import JobTarget, parse_datetime
from ansible_collections.entra.sync.plugins.module_utils.lease import SENT_ACTIONS, TRUSTED_STATUS_HORIZON, busy_reason, lease_key


class LeasedRestarter(Restarter):
    """A Restarter that holds each job's lease around read, decide and restart."""

    def __init__(self, api, plan, leases, trusted_max_age=TRUSTED_STATUS_HORIZON, items=None):
        super().__init__(api, plan)
        self.leases = leases
        # A status given to restart_many (trust_input_status) was read at most this many seconds ago, or when its item
        # (the user's jobs list) says: status_read_at.
        self.trusted_max_age = trusted_max_age
        self.items = items or []
        self.read_at = {}  # lease key -> epoch just before restart_target read the job
        self.listed_at = None  # epoch just before restart_service_principal listed the jobs

    def restart_target(self, target):
        self.read_at[lease_key(target.service_principal_id, target.job_id)] = time.time()
        return super().restart_target(target)

    def restart_service_principal(self, service_principal_id, template_id=None, concurrency=1):
        self.listed_at = time.time()
        return super().restart_service_principal(service_principal_id, template_id, concurrency)

    def _given_read_at(self, index):
        """When the status given for the item at `index` was read: its status_read_at, else the oldest it may be."""
        item = self.items[index] if 0 <= index < len(self.items) else None
        when = parse_datetime(item.get("status_read_at")) if isinstance(item, dict) else None
        return when.timestamp() if when is not None else time.time() - self.trusted_max_age

    def _busy(self, service_principal_id, job_id):
        return Outcome(_result(self.plan, service_principal_id, job_id, "failed", busy_reason(self.leases)))

    def restart_found(self, job):
        if self.plan.check_mode:
            return super().restart_found(job)
        key = lease_key(job.service_principal_id, job.job_id)
        read_at = self.read_at.pop(key, None) or self.listed_at or time.time() - self.trusted_max_age
        with self.leases.hold([key]) as held:
            if key in held.missed:
                return self._busy(job.service_principal_id, job.job_id)
            if held.restarted_since(key, read_at):
                # Another run restarted this job after its status was read: decide on its status now.
                job, error = _read(self.api, JobTarget(job.service_principal_id, job.job_id))
                if job is None:
                    return Outcome(_result(self.plan, key[0], key[1], "failed", error))
            outcome = super().restart_found(job)
            if outcome.result["action"] in SENT_ACTIONS:
                held.stamp(key)
            return outcome

    def restart_many(self, targets, concurrency, given=None):
        if self.plan.check_mode:
            return super().restart_many(targets, concurrency, given)
        keys = [lease_key(target.service_principal_id, target.job_id) for target in targets]
        with self.leases.hold(keys) as held:
            # A trusted status may predate a restart another run sent: read those jobs again, under the lease.
            given = {index: job for index, job in (given or {}).items()
                     if not held.restarted_since(lease_key(job.service_principal_id, job.job_id), self._given_read_at(index))}
            free = [position for position, key in enumerate(keys) if key not in held.missed]
            outcomes = [None] * len(targets)
            for position, key in enumerate(keys):
                if key in held.missed:
                    outcomes[position] = self._busy(targets[position].service_principal_id, targets[position].job_id)
            answers = super().restart_many([targets[position] for position in free], concurrency, given) if free else []
            for position, outcome in zip(free, answers, strict=True):
                outcomes[position] = outcome
                if outcome.result["action"] in SENT_ACTIONS:
                    held.stamp(keys[position])
            return outcomes

# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""restart.Restarter under the controller-local job leases (lease.py): what sync_job_restart runs outside check mode.

Every decision is made while the job's lease is held. A job with no status in hand is read under the lease, so its
status is fresh. A status in hand (given by the user with trust_input_status, or by a service principal's list call)
is trusted only when it was read after the last restart any run on this controller sent for the job; otherwise the
job is read again under the lease. So a self-heal restart and a fleet run started together never restart one job
twice. A job whose lease another run holds past the timeout is reported failed, not restarted.
"""

import resource
import time

from ansible_collections.entra.sync.plugins.module_utils._controller.lease import SENT_ACTIONS, TRUSTED_STATUS_HORIZON, busy_reason, lease_key
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import parse_datetime
from ansible_collections.entra.sync.plugins.module_utils._jobs.results import job_result
from ansible_collections.entra.sync.plugins.module_utils._service.restart import Outcome, Restarter

# At most this many leases (one open file each) are held at once: a jobs list is decided and sent a slice at a time, so a
# list of any length stays far below the open-file limit.
MOST_LEASES_HELD = 200


def leases_per_slice(file_limit, most=MOST_LEASES_HELD):
    """How many jobs' leases to hold at once: a quarter of the soft open-file limit (sockets and the rest need the others)."""
    if file_limit is None or file_limit < 0:  # RLIM_INFINITY
        return most
    return max(1, min(most, file_limit // 4))


def open_file_limit():
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class LeasedRestarter(Restarter):
    """A Restarter that holds each job's lease around read, decide and restart, a slice of a list at a time."""

    def __init__(self, api, plan, leases, trusted_max_age=TRUSTED_STATUS_HORIZON, items=None):
        super().__init__(api, plan)
        self.leases = leases
        # A status given by the user (trust_input_status) was read when its item says (status_read_at), else at most
        # this many seconds ago.
        self.trusted_max_age = trusted_max_age
        self.items = items or []
        self._listed_at = None  # epoch just before restart_service_principal's list call

    def restart_service_principal(self, service_principal_id, template_ids=None, concurrency=1):
        self._listed_at = time.time()
        try:
            return super().restart_service_principal(service_principal_id, template_ids, concurrency)
        finally:
            self._listed_at = None

    def _read_at(self, target):
        """When the status given for a target was read (epoch seconds)."""
        if self._listed_at is not None:
            return self._listed_at
        item = self.items[target.index] if 0 <= target.index < len(self.items) else None
        when = parse_datetime(item.get("status_read_at")) if isinstance(item, dict) else None
        return when.timestamp() if when is not None else time.time() - self.trusted_max_age

    def restart_many(self, targets, concurrency=1, given=None):
        if self.plan.check_mode:
            return super().restart_many(targets, concurrency, given)
        given = given or {}
        size = leases_per_slice(open_file_limit())
        outcomes = []
        for start in range(0, len(targets), size):
            outcomes.extend(self._restart_slice(targets[start:start + size], concurrency, given))
        return outcomes

    def _restart_slice(self, targets, concurrency, given):
        keys = [lease_key(target.service_principal_id, target.job_id) for target in targets]
        with self.leases.hold(keys) as held:
            # A status in hand that predates a restart another run sent is dropped: that job is read again, under the lease.
            trusted = {target.index: given[target.index] for target, key in zip(targets, keys, strict=True)
                       if target.index in given and not held.restarted_since(key, self._read_at(target))}
            outcomes = [None] * len(targets)
            free = []
            for position, (target, key) in enumerate(zip(targets, keys, strict=True)):
                if key in held.missed:
                    outcomes[position] = Outcome(job_result(target.service_principal_id, target.job_id, "failed", busy_reason(self.leases),
                                                            extra={"reset_scope": self.plan.reset_scope}))
                else:
                    free.append(position)
            answers = super().restart_many([targets[position] for position in free], concurrency, trusted) if free else []
            for position, outcome in zip(free, answers, strict=True):
                outcomes[position] = outcome
                if outcome.result["action"] in SENT_ACTIONS:
                    held.stamp(keys[position])
            return outcomes

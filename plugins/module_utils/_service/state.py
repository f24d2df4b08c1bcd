# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sync_job: start or pause jobs through the same read -> decide -> send path as the restarts (restart.run_jobs)."""

from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import decide_state, expected_status
from ansible_collections.entra.sync.plugins.module_utils._jobs.remedy import diagnose
from ansible_collections.entra.sync.plugins.module_utils._service.restart import Step, run_jobs


class StateSetter:
    """Reads each job, then POSTs start or pause only when decisions.decide_state says so; never twice."""

    def __init__(self, api, state, check_mode=False, allow_escrows_pruned=False):
        self.api = api
        self.state = state
        self.check_mode = check_mode
        self.allow_escrows_pruned = allow_escrows_pruned

    def step(self, job):
        """The start/pause decision as a Step, with the job's remedy; the status expected after it goes with every POST it
        calls for."""
        decision = decide_state(job, self.state, self.allow_escrows_pruned)
        remedy = diagnose(job).to_dict()
        if not decision.act:
            return Step(decision.action, decision.reason, remedy=remedy)
        expected = expected_status(job, self.state)
        if self.check_mode:
            return Step(decision.check_action(), decision.reason, expected=expected, remedy=remedy)
        return Step(decision.action, decision.reason, send=True, expected=expected, remedy=remedy)

    def set_targets(self, targets, concurrency=1):
        """Any number of named jobs (JobTarget list): one Outcome each, in order."""
        return run_jobs(self.api, targets, self.step, self._send, concurrency)

    def _send(self, pairs, concurrency, on_sent):
        send_many = self.api.start_many if self.state == "started" else self.api.pause_many
        return send_many(pairs, concurrency, on_sent)

# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the self-heal event source remembers of each job, and which event a new status gives. Pure: the clock is passed in.

A job's state is the set of restart_if conditions it matches (jobs.matching_conditions, as sync_job_info, the
inventory and sync_job_restart see them) plus the start time of its current quarantine. An event is made only when
that state changed: `unhealthy` when the job entered a condition (or a new quarantine began), `recovered` when it left
them all. Each event's job carries what fixes it (remedy.diagnose) and heal.action follows that remedy. Quarantine
entries are remembered for the relapse window only, so a job's memory stays small for ever.
"""

from dataclasses import dataclass, field

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import matching_conditions
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import parse_datetime
from ansible_collections.entra.sync.plugins.module_utils._jobs.remedy import deadline_key, diagnose, disables_soon

EVENT_KEY = "entra_sync"
DEFAULT_ESCALATE_REASONS = ("TooManyDeletes",)
# heal.action: what self-heal does with a state change. `rotate` is reserved for a `credentials` remedy when a credential
# source is configured (the credentials rotation); until then such a quarantine is escalated.
HEAL_ACTIONS = ("restart", "rotate", "escalate", "none")
# Remedies that need a person (nothing self-heal can do): escalated when a job enters them.
_PERSON_REMEDIES = ("credentials", "fix_target", "approve_deletes", "support", "clean_up_errors")


def job_key(job):
    """The identity of a job across polls: service principal id (lower case) and job id."""
    return "%s/%s" % ((job.service_principal_id or "").lower(), job.job_id or "")


@dataclass(frozen=True)
class HealPolicy:
    """The guard rails the source applies to each new quarantine: how many automatic restarts, which reasons never."""

    max_restarts: int = 1
    escalate_reasons: tuple = DEFAULT_ESCALATE_REASONS
    # The service principal ids and job ids (lower case) entra_sync_heal_credentials holds credentials for; never a value.
    credential_jobs: frozenset = frozenset()

    @classmethod
    def from_options(cls, max_restarts, escalate_reasons, credential_jobs=()):
        if isinstance(max_restarts, bool) or not isinstance(max_restarts, int) or max_restarts < 0:
            raise InputError("max_restarts %r must be a whole number, 0 or more (0: escalate every quarantine)." % (max_restarts,))
        if isinstance(escalate_reasons, str):
            escalate_reasons = [escalate_reasons]
        if not isinstance(escalate_reasons, (list, tuple)) or not all(isinstance(r, str) and r.strip() for r in escalate_reasons):
            raise InputError("escalate_reasons %r must be a list of quarantine reasons, e.g. [TooManyDeletes]." % (escalate_reasons,))
        if not isinstance(credential_jobs, (list, tuple)) or not all(isinstance(key, str) and key.strip() for key in credential_jobs):
            raise InputError("credential_jobs must be a list of service principal ids or job ids (the keys of entra_sync_heal_credentials).")
        return cls(max_restarts, tuple(reason.strip() for reason in escalate_reasons), frozenset(key.strip().lower() for key in credential_jobs))

    def escalates_reason(self, reason):
        return bool(reason) and reason.lower() in {r.lower() for r in self.escalate_reasons}

    def rotates(self, job):
        """True when credentials are configured for this job (by its job id or its service principal id)."""
        return bool({(job.job_id or "").lower(), (job.service_principal_id or "").lower()} & self.credential_jobs)


def decide_heal(job, entered, relapses, policy, diagnosis=None):
    """{"action": restart | rotate | escalate | none, "reason": one line}: what self-heal does with this state change.

    It follows the remedy (remedy.diagnose, or ``diagnosis`` when given): a new quarantine a restart can fix is restarted
    within the guard rails (escalate_reasons, max_restarts in the relapse window); a credential quarantine of a job the
    policy holds credentials for (credential_jobs) is rotated within the same relapse guard; one that needs a person is escalated,
    and so is a job that newly pauses with such a remedy (escrowsPruned, or a quarantine that disabled it).
    """
    diagnosis = diagnosis or diagnose(job)
    reason = job.quarantine_reason or "no reason given"
    needs_person = diagnosis.remedy in _PERSON_REMEDIES
    if "quarantined" not in entered:
        if "paused" in entered and needs_person:
            return {"action": "escalate", "reason": "paused, remedy %s: %s" % (diagnosis.remedy, diagnosis.remedy_reason)}
        return {"action": "none", "reason": "no new quarantine"}
    if needs_person and diagnosis.remedy == "credentials" and policy.rotates(job):
        return _rotate_or_escalate(reason, relapses, policy, diagnosis)
    if needs_person:
        return {"action": "escalate", "reason": "quarantined (%s), remedy %s, which a restart alone does not fix: %s"
                % (reason, diagnosis.remedy, diagnosis.remedy_reason)}
    if policy.escalates_reason(job.quarantine_reason):
        return {"action": "escalate", "reason": "quarantine reason %s is in escalate_reasons: a person decides" % reason}
    if relapses > policy.max_restarts:
        return {"action": "escalate", "reason": "quarantined (%s) %d times within the relapse window, more than the %d "
                "automatic restart(s) allowed: restarting again would loop; %s" % (reason, relapses, policy.max_restarts, diagnosis.remedy_reason)}
    return {"action": "restart", "reason": "quarantined (%s), remedy restart, entry %d of at most %d automatic restart(s) within the "
            "relapse window" % (reason, relapses, policy.max_restarts)}


def _rotate_or_escalate(reason, relapses, policy, diagnosis):
    """A credential quarantine of a job entra_sync_heal_credentials holds credentials for: rotate them, once per episode and
    within the same relapse guard as a restart (credentials that pass the test but do not keep the job out of
    quarantine are not rotated in a loop)."""
    if relapses > policy.max_restarts:
        return {"action": "escalate", "reason": "quarantined (%s) %d times within the relapse window, more than the %d automatic "
                "rotation(s) allowed: the configured credentials did not keep it out; %s"
                % (reason, relapses, policy.max_restarts, diagnosis.remedy_reason)}
    return {"action": "rotate", "reason": "quarantined (%s), remedy credentials, and entra_sync_heal_credentials holds credentials "
            "for this job: test them, save them if the target accepts them, restart the job" % reason}


def order_events(events):
    """Escalations whose job is disabled within 7 days (or already) first, soonest first; the rest in their order."""
    def key(event):
        body = event[EVENT_KEY]
        soon = body["heal"]["action"] == "escalate" and body["heal"].get("disables_soon")
        return (0, deadline_key(body["job"]["disables_at"])) if soon else (1,)
    return sorted(events, key=key)


@dataclass
class JobMemory:
    """One job as last seen: its conditions, its quarantine's start, and when this source saw it enter quarantine."""

    conditions: tuple = ()
    quarantine_began: str = None
    entries: list = field(default_factory=list)


def _quarantine_began(job):
    return job.quarantine.current_began if job.quarantine else None


def entered_quarantine(memory, conditions, began):
    """True when the job is quarantined now and was not at the last poll, or a later quarantine has begun since."""
    if "quarantined" not in conditions:
        return False
    if memory is None or "quarantined" not in memory.conditions:
        return True
    return began is not None and began != memory.quarantine_began


class HealTracker:
    """The per-job memory of one event source, and the events each observation gives."""

    def __init__(self, relapse_window, policy=None, emit_initial=True, memory=None):
        self.relapse_window = relapse_window
        self.policy = policy or HealPolicy()
        self.emit_initial = emit_initial
        # {job_key: JobMemory}; a restarted source starts from what it saved (heal_store.memory_from_document).
        self.memory = dict(memory or {})

    def __len__(self):
        return len(self.memory)

    def observe(self, job, now, observed_at, extra=None, initial=False):
        """The event for this reading of `job` (a jobs.Job), or None when its state did not change.

        now: epoch seconds for the relapse window (a restarted source compares them with the ones it saved); observed_at:
        the ISO time put in the event; extra: keys added to the event's job dict (tenant_id, status_read_at); initial:
        this is the first scan (see emit_initial).
        """
        key = job_key(job)
        memory = self.memory.get(key)
        conditions = matching_conditions(job)
        began = _quarantine_began(job)
        entered_q = entered_quarantine(memory, conditions, began)
        previous = memory.conditions if memory else ()
        if memory is None:
            memory = self.memory[key] = JobMemory()
        memory.entries = [when for when in memory.entries if now - when < self.relapse_window]
        if entered_q:
            memory.entries.append(now)
        changed = conditions != previous or entered_q
        memory.conditions, memory.quarantine_began = conditions, began
        if not changed or (initial and not self.emit_initial):
            return None
        entered = [c for c in conditions if c not in previous or (c == "quarantined" and entered_q)]
        kind = "unhealthy" if conditions else "recovered"
        return self._event(kind, job, conditions, previous, entered, len(memory.entries), observed_at, began, extra)

    def _event(self, kind, job, conditions, previous, entered, relapses, observed_at, began, extra):
        diagnosis = diagnose(job)
        heal = decide_heal(job, entered, relapses, self.policy, diagnosis)
        now = parse_datetime(observed_at)
        heal["disables_soon"] = now is not None and disables_soon(diagnosis.disables_at, now)
        episode = (began or observed_at) if "quarantined" in conditions else None
        return {EVENT_KEY: {
            "type": kind,
            "conditions": list(conditions),
            "previous_conditions": list(previous),
            "entered": entered,
            "job": dict(job.to_dict(), **diagnosis.to_dict(), **(extra or {})),
            "relapses": relapses,
            "observed_at": observed_at,
            "episode": episode,
            "heal": heal,
        }}

    def forget_missing(self, present_keys):
        """Drop the jobs a full discovery no longer found (deleted jobs or service principals); returns how many."""
        gone = [key for key in self.memory if key not in present_keys]
        for key in gone:
            del self.memory[key]
        return len(gone)

    def prune(self, now):
        """Drop quarantine entries older than the relapse window from every job (bounded memory over weeks)."""
        for memory in self.memory.values():
            if memory.entries and now - memory.entries[0] >= self.relapse_window:
                memory.entries = [when for when in memory.entries if now - when < self.relapse_window]

    def history_size(self):
        """How many quarantine entries are remembered in all: the soak checks it stays bounded."""
        return sum(len(memory.entries) for memory in self.memory.values())


def notice_event(kind, phase, message, observed_at, **extra):
    """An event about the source itself, not a job (message already free of secrets): the shape of every event."""
    return {EVENT_KEY: dict({
        "type": kind,
        "phase": phase,
        "message": message,
        "conditions": [],
        "previous_conditions": [],
        "entered": [],
        "job": None,
        "relapses": 0,
        "observed_at": observed_at,
        "episode": None,
        "heal": {"action": "none", "reason": "not a job's state change", "disables_soon": False},
    }, **extra)}


def scan_error_event(phase, message, failures, retry_in, observed_at, failed_reads=None):
    """The event for a poll or discovery that could not be completed (message already free of secrets)."""
    event = notice_event("scan_error", phase, message, observed_at, failed_reads=failed_reads, consecutive_failures=failures,
                         retry_in=retry_in)
    event[EVENT_KEY]["heal"]["reason"] = "the scan could not be completed"
    return event


def warning_event(phase, message, observed_at):
    """One event for a problem the source works around and goes on (phase state_file: it starts fresh or keeps its
    memory in the process only)."""
    return notice_event("warning", phase, message, observed_at)


def backoff_delay(interval, failures):
    """Seconds to wait before the next attempt after `failures` failed polls in a row: doubling, capped."""
    if failures <= 0:
        return interval
    return min(interval * 2 ** failures, max(interval * 4, 30))

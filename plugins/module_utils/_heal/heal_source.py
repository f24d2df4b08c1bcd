# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The blocking half of the entra.sync.sync_job_events event source: its arguments, discovery, polls and failures.

The async source (extensions/eda/plugins/event_source/sync_job_events.py) runs HealSource.step() in a thread and puts
the events it returns on ansible-rulebook's queue. Arguments go through the modules' own argspec (options.graph_argspec:
same names, env fallbacks and defaults) and connect.connect(), the one path from options to a Graph client.

Cost: a discovery pages every service principal and lists its jobs (discovery.scan_tenant); a poll reads only the
jobs the last discovery found, one GET each or 20 per $batch envelope (SyncApi.get_jobs_many).
"""

import time
from dataclasses import dataclass

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.entra.sync.plugins.module_utils._auth.base import scrub
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, EntraSyncError, GraphError, InputError
from ansible_collections.entra.sync.plugins.module_utils._graph.concurrency import MAX_CONCURRENCY
from ansible_collections.entra.sync.plugins.module_utils._heal.heal_state import (
    DEFAULT_ESCALATE_REASONS,
    HealPolicy,
    HealTracker,
    backoff_delay,
    job_key,
    order_events,
    scan_error_event,
    warning_event,
)
from ansible_collections.entra.sync.plugins.module_utils._heal.heal_store import ENV_STATE_FILE
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import parse_job, utc_now_iso
from ansible_collections.entra.sync.plugins.module_utils._service.discovery import JobFilter, scan_tenant
from ansible_collections.entra.sync.plugins.module_utils._settings.options import graph_argspec

SOURCE_NAME = "entra.sync.sync_job_events"
# ansible-rulebook adds arguments of its own (eda_feedback_queue): they are not the user's.
RULEBOOK_ARG_PREFIX = "eda_"


def source_argspec():
    """The modules' connection options plus the source's own."""
    spec = graph_argspec()
    spec.update({
        "interval": {"type": "int", "default": 300},
        "discovery_interval": {"type": "int", "default": 3600},
        "template_ids": {"type": "list", "elements": "str", "default": []},
        "service_principal_filter": {"type": "str"},
        "concurrency": {"type": "int", "default": 10},
        "batch": {"type": "bool", "default": True},
        "emit_initial": {"type": "bool", "default": True},
        "relapse_window": {"type": "int", "default": 86400},
        "max_restarts": {"type": "int", "default": 1},
        "escalate_reasons": {"type": "list", "elements": "str", "default": list(DEFAULT_ESCALATE_REASONS)},
        "credential_jobs": {"type": "list", "elements": "str", "default": []},
        # None or "": the default file under the user's state directory (heal_store.state_file_path).
        "state_file": {"type": "str", "fallback": (env_fallback, [ENV_STATE_FILE])},
    })
    return spec


@dataclass(frozen=True)
class SourceConfig:
    interval: int
    discovery_interval: int
    template_ids: tuple
    service_principal_filter: str
    concurrency: int
    batch: bool
    emit_initial: bool
    relapse_window: int
    policy: HealPolicy
    state_file: str = None


def _check_ranges(params):
    checks = (
        ("interval", 1, "seconds between status polls"),
        ("discovery_interval", 1, "seconds between full discoveries of the tenant"),
        ("relapse_window", 1, "seconds in which quarantine entries are counted"),
    )
    for name, minimum, what in checks:
        if params[name] < minimum:
            raise InputError("%s: %s %s is below the minimum: give %s, at least %d." % (SOURCE_NAME, name, params[name], what, minimum))
    if not 1 <= params["concurrency"] <= MAX_CONCURRENCY:
        raise InputError("%s: concurrency %s is out of range: use 1 to %d." % (SOURCE_NAME, params["concurrency"], MAX_CONCURRENCY))
    if params["discovery_interval"] < params["interval"]:
        raise InputError("%s: discovery_interval %s is shorter than interval %s: discover at most as often as you poll."
                         % (SOURCE_NAME, params["discovery_interval"], params["interval"]))


def parse_source_args(args):
    """(SourceConfig, get_option for connect()) from the rulebook's arguments; InputError (secrets scrubbed) if any is bad."""
    if not isinstance(args, dict):
        raise InputError("%s: the arguments must be a mapping, not %s." % (SOURCE_NAME, type(args).__name__))
    # A null argument (a rulebook's "{{ var | default(None) }}") is as if not given: its env fallback and default apply.
    given = {name: value for name, value in args.items() if not str(name).startswith(RULEBOOK_ARG_PREFIX) and value is not None}
    result = ArgumentSpecValidator(source_argspec()).validate(given)
    errors = list(result.errors)  # the container itself is always true
    if errors:
        messages = []
        for error in errors:
            prefix = "unknown argument " if isinstance(error, UnsupportedError) else ""
            messages.append(prefix + scrub(error.error_message, result._no_log_values))  # pylint: disable=protected-access
        raise InputError("%s: %s" % (SOURCE_NAME, "; ".join(messages)))
    params = result.validated_parameters
    _check_ranges(params)
    try:
        policy = HealPolicy.from_options(params["max_restarts"], params["escalate_reasons"], params["credential_jobs"])
    except InputError as exc:
        raise InputError("%s: %s" % (SOURCE_NAME, exc)) from None
    config = SourceConfig(
        interval=params["interval"],
        discovery_interval=params["discovery_interval"],
        template_ids=tuple(params["template_ids"]),
        service_principal_filter=params["service_principal_filter"],
        concurrency=params["concurrency"],
        batch=params["batch"],
        emit_initial=params["emit_initial"],
        relapse_window=params["relapse_window"],
        policy=policy,
        state_file=params["state_file"],
    )
    return config, params.get


def _owner(job):
    return {"id": job.service_principal_id, "displayName": job.service_principal_name, "appId": job.app_id}


def fatal_at_start(error):
    """True for an error of the first scan that no retry fixes: the credentials or permissions are wrong (pure).

    The source raises it, so ansible-rulebook stops and EDA controller's restart policy applies; a service that cannot
    be reached (or any error after a scan succeeded) is a scan_error event and the source goes on.
    """
    if isinstance(error, AuthError):
        return not error.transient
    return isinstance(error, GraphError) and error.status in (401, 403)


class HealSource:
    """Discovery, polls and the tracker of one source; step() does one of them and says how long to wait."""

    def __init__(self, api, config, tenant_id=None, secrets=(), wall_clock=utc_now_iso, reconnect=None, store=None,
                 epoch=time.time, housekeeping=None):
        self.api = api
        # Called before each discovery after the first for a fresh SyncApi: no state of the HTTP layer (connection pool,
        # token, a pace learned from 429s, a $batch refusal) outlives one discovery cycle of a source that runs for weeks.
        self.reconnect = reconnect
        self.config = config
        self.tenant_id = tenant_id
        self.secrets = [secret for secret in secrets if secret]
        self.wall_clock = wall_clock
        # The relapse window's clock: epoch seconds, which the state file (store) keeps across restarts of the source.
        self.epoch = epoch
        self.store = store
        # Called at the start and before each discovery (the controller-local lease files are pruned there).
        self.housekeeping = housekeeping
        self.tracker = HealTracker(config.relapse_window, config.policy, config.emit_initial)
        self.known = []  # (service_principal_id, job_id, owner) of every job the last discovery found
        self.next_discovery = None
        self.failures = 0
        self.scans = 0
        self.started = False

    def start(self, observed_at):
        """Read the state file (once): the events for a file that could not be used."""
        self.started = True
        if self.store is None:
            return []
        memory, warning = self.store.load(self.epoch())
        self.tracker = HealTracker(self.config.relapse_window, self.config.policy, self.config.emit_initial, memory)
        return [warning_event("state_file", scrub(warning, self.secrets), observed_at)] if warning else []

    def step(self, now):
        """One discovery (when due) or one poll at clock time `now`: (events, seconds to wait before the next step)."""
        observed_at = self.wall_clock()
        events = [] if self.started else self.start(observed_at)
        discovering = self.next_discovery is None or now >= self.next_discovery
        try:
            if discovering:
                jobs, errors = self._discover(now)
            else:
                jobs, errors = self._poll()
        except EntraSyncError as exc:
            if self.scans == 0 and fatal_at_start(exc):
                raise
            # Nothing could be read (unreachable, token refused): back off before the next attempt.
            self.failures += 1
            delay = backoff_delay(self.config.interval, self.failures)
            return events + [self._failed("discovery" if discovering else "poll", str(exc), observed_at, delay)], delay
        initial = self.scans == 0
        self.scans += 1
        epoch = self.epoch()
        extra = {"tenant_id": self.tenant_id, "status_read_at": observed_at}
        # A job about to be disabled is escalated first.
        events += order_events([event for event in (self.tracker.observe(job, epoch, observed_at, extra, initial) for job in jobs) if event])
        self.tracker.prune(epoch)
        self.failures = 0
        if errors:
            # Some reads failed after the client's retries: those jobs keep their last state until the next poll, which
            # comes at the usual interval (the service answered; throttling is paced by the client).
            message = "%d of %d reads failed; the first: %s" % (len(errors), len(errors) + len(jobs), errors[0])
            events.append(self._failed("discovery" if discovering else "poll", message, observed_at, self.config.interval, len(errors)))
        return events + self._save(epoch, observed_at), self.config.interval

    def _save(self, epoch, observed_at):
        warning = self.store.save(self.tracker.memory, epoch) if self.store is not None else None
        return [warning_event("state_file", scrub(warning, self.secrets), observed_at)] if warning else []

    def _failed(self, phase, message, observed_at, retry_in, failed_reads=None):
        return scan_error_event(phase, scrub(message, self.secrets), max(self.failures, 1), retry_in, observed_at, failed_reads)

    def _discover(self, now):
        """Every job of the tenant; jobs of a service principal that could not be listed stay known as before."""
        if self.housekeeping is not None:
            self.housekeeping()
        if self.reconnect is not None and self.next_discovery is not None:
            self.api = self.reconnect()
        job_filter = JobFilter.from_lists(list(self.config.template_ids))
        scan = scan_tenant(self.api, job_filter, self.config.service_principal_filter, self.config.concurrency)
        failed_sps = {(error.get("service_principal_id") or "").lower() for error in scan.errors}
        kept = [entry for entry in self.known if entry[0].lower() in failed_sps]
        self.known = [(job.service_principal_id, job.job_id, _owner(job)) for job in scan.jobs if job.job_id] + kept
        if not scan.errors:
            self.tracker.forget_missing({job_key(job) for job in scan.jobs})
        self.next_discovery = now + self.config.discovery_interval
        return scan.jobs, [error["message"] for error in scan.errors]

    def _poll(self):
        """The known jobs, read again; a job that no longer exists (404) is dropped until the next discovery finds it."""
        answers = self.api.get_jobs_many([(sp_id, job_id) for sp_id, job_id, _owner in self.known], self.config.concurrency)
        jobs, errors, kept = [], [], []
        for entry, (raw, error) in zip(self.known, answers, strict=True):
            if isinstance(error, GraphError) and error.status == 404:
                continue
            kept.append(entry)
            if error is not None:
                errors.append(str(error))
            elif isinstance(raw, dict) and raw.get("id"):
                jobs.append(parse_job(raw, entry[2]))
            else:
                errors.append("Graph returned no job for %s/%s" % entry[:2])
        self.known = kept
        if errors and not jobs:
            # Nothing could be read (the service is unreachable, the token is refused): one failure, not one per job.
            raise EntraSyncError("no job could be read (%d tried); the first error: %s" % (len(errors), errors[0]))
        return jobs, errors

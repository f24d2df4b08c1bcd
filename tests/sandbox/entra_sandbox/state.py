"""A synchronization job's state and what restart, start and pause do to it.

Follows graph-facts.md "Restart scope" and the reference notes section 4. The job keeps only the few
fields that change; job_json.py renders Microsoft's full JSON from them on demand.
"""

import time

STATUS_CODES = ("NotConfigured", "NotRun", "Active", "Paused", "Quarantine")
SCHEDULE_STATES = ("Active", "Disabled", "Paused")
EXECUTION_STATES = ("Succeeded", "Failed", "EntryLevelErrors")
QUARANTINE_REASONS = (
    "EncounteredBaseEscrowThreshold", "EncounteredTotalEscrowThreshold", "EncounteredEscrowProportionThreshold",
    "EncounteredQuarantineException", "Unknown", "QuarantinedOnDemand", "TooManyDeletes", "IngestionInterrupted",
)

# synchronizationJobRestartScope flags (graph-facts.md).
RESET_SCOPE_FLAGS = {
    "None": 0, "ConnectorDataStore": 1, "Escrows": 2, "Watermark": 4, "QuarantineState": 8, "Full": 15, "ForceDeletes": 32,
}
_FLAGS_BY_LOWER = {name.lower(): value for name, value in RESET_SCOPE_FLAGS.items()}
CONNECTOR_DATA_STORE, ESCROWS, WATERMARK, QUARANTINE_STATE, FORCE_DELETES = 1, 2, 4, 8, 32
# Empty criteria: what the admin center's "Restart provisioning" does.
DEFAULT_RESTART = QUARANTINE_STATE | WATERMARK | ESCROWS

DISABLED_INTERVAL = "P10675199DT2H48M5.4775807S"
UNSET = object()  # an admin field that was not given (None means "clear it")


class ScopeError(ValueError):
    """An unknown reset scope name; the message mimics .NET's Enum.Parse as Graph surfaces it."""


def parse_reset_scope(value):
    """Parse a comma-separated resetScope string as .NET does (case-insensitive, spaces allowed)."""
    if not isinstance(value, str):
        raise ScopeError("Cannot convert the literal '%s' to the expected type 'microsoft.graph.synchronizationJobRestartScope'." % (value,))
    flags = 0
    for part in value.split(","):
        name = part.strip()
        if name.lower() not in _FLAGS_BY_LOWER:
            raise ScopeError("Requested value '%s' was not found." % name)
        flags |= _FLAGS_BY_LOWER[name.lower()]
    return flags


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".%07dZ" % int((time.time() % 1) * 1e7)


class Job:
    """One synchronization job. Slotted: a 50,000-SP fleet holds about 10,000 of these."""

    __slots__ = (
        "job_id", "template_id", "code", "schedule_state", "interval", "quarantine_reason", "quarantine_empty",
        "quarantine_series", "quarantine_error", "last_state", "last_error", "last_time", "failures", "escrows",
        "watermark", "held_deletes", "seed", "troubleshooting_null", "relapse",
        "restarts", "starts", "pauses", "starts_while_active", "reset_scopes", "quarantine_began", "relapse_error",
        "escrows_pruned", "series_began",
    )

    def __init__(self, job_id, template_id, seed, **fields):
        self.job_id = job_id
        self.template_id = template_id
        self.seed = seed
        self.code = "Active"
        self.schedule_state = "Active"
        self.interval = "PT40M"
        self.quarantine_reason = None     # None: no quarantine object; "" is a real (odd) value
        self.quarantine_empty = False     # render quarantine dates as "" (seen in Microsoft's sample)
        self.quarantine_series = 0
        self.quarantine_error = None      # (code, message) or None
        self.quarantine_began = None      # real time of a quarantine that began during the run (a relapse)
        self.last_state = "Succeeded"     # None: lastExecution is null
        self.last_error = None            # (code, message) or None
        self.last_time = None             # epoch seconds of a run the sandbox itself started
        self.failures = 0
        self.escrows = 0
        self.watermark = True
        self.held_deletes = 0
        self.troubleshooting_null = False
        self.relapse = False
        self.restarts = 0
        self.starts = 0
        self.pauses = 0
        self.starts_while_active = 0
        self.reset_scopes = []
        self.relapse_error = None         # (code, message, tenant_actionable) a relapse carries; None: the error it had
        self.escrows_pruned = False       # Paused by the service after the initial cycle hit the error threshold
        self.series_began = None          # real time the quarantine series began (seriesBegan; + 28 days: disabled)
        for name, value in fields.items():
            setattr(self, name, value)

    @property
    def quarantined(self):
        return self.code == "Quarantine" or self.quarantine_reason is not None

    # --- the documented operations -------------------------------------------------------------

    def restart(self, scope_string):
        """Apply a restart; scope_string None means empty criteria."""
        flags = DEFAULT_RESTART if scope_string is None else parse_reset_scope(scope_string)
        # What the job was quarantined for: a relapse (the cause persists) comes back with it.
        cause = (self.quarantine_reason, self.quarantine_error)
        self.restarts += 1
        self.reset_scopes.append(scope_string if scope_string is not None else "")
        if flags == 0:
            # "None: starts a paused or quarantined provisioning job" (documented as do-not-use).
            self._resume(lift_quarantine=True)
            return
        if flags & ESCROWS:
            self.escrows = 0
        if flags & WATERMARK:
            self.watermark = False
        if flags & FORCE_DELETES:
            self.held_deletes = 0
        lift = bool(flags & QUARANTINE_STATE) or (flags & FORCE_DELETES and self.quarantine_reason == "TooManyDeletes")
        if self.quarantined and not lift:
            return  # still quarantined: only the cleared state changed
        if self.code == "NotConfigured":
            return  # nothing to run without credentials
        self._resume(lift_quarantine=True)
        self._begin_cycle()
        if self.relapse:
            self._fall_into_quarantine(*cause)

    def start(self):
        self.starts += 1
        if self.code == "Active" and self.schedule_state == "Active" and not self.quarantined:
            self.starts_while_active += 1  # Microsoft warns against exactly this
            return
        if self.code in ("NotConfigured", "NotRun"):
            self.code = "NotRun"
            self.schedule_state = "Active"
            self.interval = self.interval if self.interval != DISABLED_INTERVAL else "PT40M"
            return
        self._resume(lift_quarantine=True)

    def pause(self):
        # The quarantine object stays: this is how "code Paused with a quarantine" happens.
        self.pauses += 1
        self.code = "Paused"
        self.schedule_state = "Paused"

    # --- admin --------------------------------------------------------------------------------

    def set_fields(self, status_code=None, quarantine_reason=None, relapse=None, last_execution_state=None, schedule_state=None,
                   escrows_pruned=None, quarantine_days=None, quarantine_error=UNSET):
        """The admin API's PUT. quarantine_days: the quarantine series began that many days ago (seriesBegan; the job is
        disabled 28 days after it); quarantine_error: {code, message, tenant_actionable} or None (no error)."""
        if status_code is not None:
            self._set_code(status_code)
        if quarantine_reason is not None:
            if quarantine_reason not in QUARANTINE_REASONS + ("",):
                raise ValueError("quarantine_reason must be one of %s" % ", ".join(QUARANTINE_REASONS))
            self.quarantine_reason = quarantine_reason
            self._begin_series()
        if quarantine_error is not UNSET:
            self.quarantine_error = parse_error(quarantine_error)
        if quarantine_days is not None:
            days = float(quarantine_days)
            if days < 0:
                raise ValueError("quarantine_days must be 0 or more")
            self.series_began = time.time() - days * 86400
            self.quarantine_began = max(self.quarantine_began or 0, self.series_began)
        if last_execution_state is not None:
            if last_execution_state not in EXECUTION_STATES:
                raise ValueError("last_execution_state must be one of %s" % ", ".join(EXECUTION_STATES))
            self.last_state = last_execution_state
            self.last_error = ("SystemForCrossDomainIdentityManagementServiceIncompatible",
                               "The SCIM endpoint is not fully compatible.") if last_execution_state != "Succeeded" else None
            self.failures = 1 if last_execution_state == "Failed" else 0
        if schedule_state is not None:
            if schedule_state not in SCHEDULE_STATES:
                raise ValueError("schedule_state must be one of %s" % ", ".join(SCHEDULE_STATES))
            self.schedule_state = schedule_state
        if escrows_pruned is not None:
            self.escrows_pruned = bool(escrows_pruned)
        if relapse is not None:
            self.relapse = bool(relapse)

    def _set_code(self, status_code):
        if status_code not in STATUS_CODES:
            raise ValueError("status_code must be one of %s" % ", ".join(STATUS_CODES))
        self.code = status_code
        if status_code == "Quarantine":
            # A restart fixes an escrow threshold: the sandbox's default quarantine is one (graph-facts.md).
            self.quarantine_reason = self.quarantine_reason or "EncounteredEscrowProportionThreshold"
            self.schedule_state = "Active"
            self._begin_series()
        elif status_code == "Active":
            self.quarantine_reason = None
            self.quarantine_error = None
            self.series_began = self.quarantine_began = None
            self.schedule_state = "Active"
        elif status_code == "Paused":
            self.schedule_state = "Paused"
        elif status_code == "NotRun":
            # Started but not run yet: an active schedule, as start() and the generated fleet leave it.
            self.schedule_state = "Active"
            self.interval = self.interval if self.interval != DISABLED_INTERVAL else "PT40M"
        else:
            self.schedule_state = "Disabled"
            self.interval = DISABLED_INTERVAL

    def _begin_series(self):
        """A quarantine set through the admin API began now, unless it already has a start."""
        self.quarantine_series = max(1, self.quarantine_series)
        if self.series_began is None:
            self.series_began = time.time()
        if self.quarantine_began is None:
            self.quarantine_began = self.series_began

    # --- internals ----------------------------------------------------------------------------

    def _resume(self, lift_quarantine):
        if lift_quarantine:
            self.quarantine_reason = None
            self.quarantine_error = None
            self.quarantine_empty = False
            self.quarantine_series = 0
            self.quarantine_began = None
            self.series_began = None
            self.failures = 0
        self.escrows_pruned = False
        self.code = "Active"
        self.schedule_state = "Active"
        if self.interval == DISABLED_INTERVAL:
            self.interval = "PT40M"

    def _begin_cycle(self):
        # A restart runs a full initial cycle: the previous run's result no longer describes the job.
        self.last_state = None
        self.last_error = None
        self.last_time = time.time()
        self.failures = 0

    def _fall_into_quarantine(self, reason=None, error=None):
        """The cause a restart did not fix comes back: the reason and error the job had (or relapse_error)."""
        self.code = "Quarantine"
        self.quarantine_began = self.series_began = time.time()
        self.quarantine_reason = reason or "EncounteredQuarantineException"
        self.quarantine_error = self.relapse_error or error
        self.quarantine_series = 1
        self.last_state = "Failed"
        self.last_error = self.quarantine_error
        self.failures = 1


def parse_error(value):
    """A quarantine error from the admin API: {code, message, tenant_actionable} or None; (code, message, tenant_actionable)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("code"), str) or not value["code"]:
        raise ValueError("quarantine_error must be null or {\"code\", \"message\", \"tenant_actionable\"}")
    return (value["code"], str(value.get("message") or value["code"]), bool(value.get("tenant_actionable", False)))

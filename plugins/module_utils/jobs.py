# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The jobs domain: input validation, restart scope, the job status model and the restart decision.

Pure: standard library only, no I/O. Everything here is unit-tested without HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ansible_collections.entra.sync.plugins.module_utils.exceptions import InputError

__all__ = [
    "ACTIONS",
    "Decision",
    "EXECUTION_STATES",
    "GUID_RE",
    "JOB_ID_RE",
    "Job",
    "JobTarget",
    "MAX_JOB_ID_LENGTH",
    "QUARANTINE_REASONS",
    "Quarantine",
    "RESET_SCOPE_FLAGS",
    "RESET_SCOPE_ORDER",
    "RESTART_CONDITIONS",
    "SCHEDULE_STATES",
    "STATUS_CODES",
    "SyncError",
    "build_reset_scope",
    "decide_restart",
    "describe_status",
    "matching_conditions",
    "normalize_job_targets",
    "parse_datetime",
    "parse_job",
    "parse_reset_scope",
    "restart_body",
    "status_diff",
    "summarize",
    "validate_conditions",
    "validate_job_id",
    "validate_service_principal_id",
]


# How much of a bad value an error message shows: enough to recognise it, never a whole pasted file.
_SHOWN_CHARS = 80


def _show(value: object) -> str:
    """repr() of a user value for an error message, truncated."""
    if isinstance(value, str):
        if len(value) > _SHOWN_CHARS:
            return f"{value[:_SHOWN_CHARS]!r}... ({len(value)} characters)"
        return repr(value)
    text = repr(value)
    if len(text) > _SHOWN_CHARS:
        text = text[:_SHOWN_CHARS] + "..."
    return f"{text} (a {type(value).__name__})"


# ---------------------------------------------------------------------------------------------------
# Identifiers

# \Z, not $: "$" also matches before a trailing newline, and "id\n" must be refused.
GUID_RE = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\Z")
JOB_ID_RE = re.compile(r"^[A-Za-z0-9._-]+\Z")

_EXAMPLE_GUID = "00000000-0000-0000-0000-000000000000"
_EXAMPLE_JOB_ID = "scim.0123456789abcdef0123456789abcdef"
# Real ids are under 100 characters; anything far longer is a pasted value, not an id.
MAX_JOB_ID_LENGTH = 256
_JOB_ID_RULE = (
    "a job id uses only the letters A-Z and a-z, the digits 0-9, '.', '_' and '-' "
    f"(e.g. {_EXAMPLE_JOB_ID} or AD2AADProvisioning.fd1c9b9e8077402c8bc03a7186c8f976)"
)


def validate_service_principal_id(value: object, name: str = "service_principal_id") -> str:
    """Return the service principal object id in lower case, or raise InputError.

    ``name`` is how the message names the value, e.g. ``jobs[3].service_principal_id``.
    """
    if value is None or value == "":
        raise InputError(f"{name} is empty: pass the service principal's object id (a GUID), e.g. {_EXAMPLE_GUID}")
    if not isinstance(value, str):
        raise InputError(f"{name} {_show(value)} is not a GUID string: pass the service principal's object id, e.g. {_EXAMPLE_GUID}")
    if GUID_RE.match(value):
        # Graph returns ids in lower case; one spelling makes duplicates findable.
        return value.lower()
    hint = ""
    if GUID_RE.match(value.strip()):
        hint = " (it has leading or trailing whitespace)"
    elif GUID_RE.match(value.strip("{}")):
        hint = " (drop the braces)"
    raise InputError(
        f"{name} {_show(value)} is not a GUID{hint}: pass the service principal's object id "
        f"(not the appId, not the display name), e.g. {_EXAMPLE_GUID}"
    )


def validate_job_id(value: object, name: str = "job_id") -> str:
    """Return the synchronization job id unchanged, or raise InputError.

    Job ids are opaque and case-sensitive; they become a URL path segment, so anything that could change the
    path ('/', '..', '%', '?', whitespace) is refused rather than escaped.
    """
    if value is None or value == "":
        raise InputError(f"{name} is empty: {_JOB_ID_RULE}")
    if not isinstance(value, str):
        raise InputError(f"{name} {_show(value)} is not a string: {_JOB_ID_RULE}")
    if value in (".", ".."):
        raise InputError(f"{name} {value!r} is a path segment, not a job id: {_JOB_ID_RULE}")
    if len(value) > MAX_JOB_ID_LENGTH:
        raise InputError(f"{name} {_show(value)} is too long for a job id (at most {MAX_JOB_ID_LENGTH} characters): {_JOB_ID_RULE}")
    if JOB_ID_RE.match(value):
        return value
    bad = sorted({char for char in value if not JOB_ID_RE.match(char)})
    shown = " ".join(repr(char) for char in bad[:10])
    hint = ""
    if "%" in value:
        hint = "; pass the id unencoded, the module quotes it"
    elif value.strip() != value:
        hint = "; remove the surrounding whitespace"
    raise InputError(f"{name} {_show(value)} is not a synchronization job id (it contains {shown}{hint}): {_JOB_ID_RULE}")


# ---------------------------------------------------------------------------------------------------
# Restart scope (criteria.resetScope)

RESET_SCOPE_FLAGS = {
    "None": 0,
    "ConnectorDataStore": 1,
    "Escrows": 2,
    "Watermark": 4,
    "QuarantineState": 8,
    "Full": 15,
    "ForceDeletes": 32,
}
# Output order: ascending flag value ("None" is never sent).
RESET_SCOPE_ORDER = ("ConnectorDataStore", "Escrows", "Watermark", "QuarantineState", "Full", "ForceDeletes")

_SCOPE_BY_FOLDED_NAME = {scope.casefold(): scope for scope in RESET_SCOPE_FLAGS}
_FULL_MEMBERS = tuple(scope for scope in RESET_SCOPE_ORDER if scope != "Full" and RESET_SCOPE_FLAGS[scope] & RESET_SCOPE_FLAGS["Full"])
_VALID_SCOPES = ", ".join(RESET_SCOPE_ORDER)
_CONNECTOR_DATA_STORE_RISK = (
    "it clears the provisioning service's cache for all users, and Microsoft says not to use it "
    "without guidance from Microsoft Support"
)


def _split_scope_names(names: object) -> list[str]:
    if isinstance(names, str):
        return names.split(",")
    if isinstance(names, (list, tuple)):
        split = []
        for item in names:
            if not isinstance(item, str):
                raise InputError(f"reset_scope item {_show(item)} is not a name: valid names are {_VALID_SCOPES}")
            # A list item can still carry a comma-separated string (Ansible's list type splits on ',' itself).
            split.extend(item.split(","))
        return split
    raise InputError(f"reset_scope {_show(names)} is not a list of names: valid names are {_VALID_SCOPES}")


def _canonical_scope(name: str) -> str:
    stripped = name.strip()
    if not stripped:
        raise InputError(
            "reset_scope has an empty name: valid names are "
            f"{_VALID_SCOPES}; omit reset_scope (or pass []) to send empty criteria, the admin center's default"
        )
    canonical = _SCOPE_BY_FOLDED_NAME.get(stripped.casefold())
    if canonical is None:
        raise InputError(f"reset_scope {_show(stripped)} is not a restart scope: valid names are {_VALID_SCOPES}")
    return canonical


def build_reset_scope(names: object, allow_connector_data_store: bool = False) -> tuple[str | None, list[str]]:
    """Turn the user's reset_scope into the wire string, plus warnings for the user.

    ``names`` is a list of names or one comma-separated string, matched case-insensitively. Returns
    ``(None, [])`` for None or an empty list: send ``{"criteria": {}}``, what the admin center's
    "Restart provisioning" does. Names come back in canonical case, deduplicated, in RESET_SCOPE_ORDER,
    joined with ", "; members of Full are folded into it.
    """
    if names is None or (isinstance(names, (list, tuple)) and not names):
        return None, []
    chosen = {_canonical_scope(name) for name in _split_scope_names(names)}
    if "None" in chosen:
        raise InputError(
            "reset_scope None starts a paused or quarantined job without resetting anything, and Microsoft says "
            "not to use it: use entra.sync.sync_job with state: started instead, or omit reset_scope to restart "
            "with empty criteria"
        )
    warnings = []
    if "ConnectorDataStore" in chosen and not allow_connector_data_store:
        raise InputError(
            f"reset_scope ConnectorDataStore is refused by default: {_CONNECTOR_DATA_STORE_RISK}. "
            "Set allow_connector_data_store: true to send it anyway"
        )
    if "Full" in chosen:
        if not allow_connector_data_store:
            raise InputError(
                "reset_scope Full includes ConnectorDataStore (Full = ConnectorDataStore + Escrows + Watermark + "
                f"QuarantineState), which is refused by default: {_CONNECTOR_DATA_STORE_RISK}. Pass "
                "[Escrows, Watermark, QuarantineState] to reset the rest, or set allow_connector_data_store: true"
            )
        warnings.append(f"reset_scope Full includes ConnectorDataStore: {_CONNECTOR_DATA_STORE_RISK}")
        chosen.difference_update(_FULL_MEMBERS)
    return ", ".join(scope for scope in RESET_SCOPE_ORDER if scope in chosen), warnings


def parse_reset_scope(scope: str | None) -> list[str]:
    """The names in a resetScope wire string, in canonical case and in the string's order.

    The inverse of build_reset_scope; raises InputError for a name that is not a scope.
    """
    if scope is None or not scope.strip():
        return []
    names = []
    for name in scope.split(","):
        canonical = _canonical_scope(name)
        if canonical not in names:
            names.append(canonical)
    return names


def restart_body(scope: str | None) -> dict:
    """The JSON body of POST .../restart. The docs don't say a body-less POST works, so send empty criteria."""
    if scope is None:
        return {"criteria": {}}
    return {"criteria": {"resetScope": scope}}


# ---------------------------------------------------------------------------------------------------
# Graph enums. PascalCase on the wire; compared case-insensitively, reported in canonical case when known.

STATUS_CODES = ("NotConfigured", "NotRun", "Active", "Paused", "Quarantine")
SCHEDULE_STATES = ("Active", "Disabled", "Paused")
EXECUTION_STATES = ("Succeeded", "Failed", "EntryLevelErrors")
QUARANTINE_REASONS = (
    "EncounteredBaseEscrowThreshold",
    "EncounteredTotalEscrowThreshold",
    "EncounteredEscrowProportionThreshold",
    "EncounteredQuarantineException",
    "Unknown",
    "QuarantinedOnDemand",
    "TooManyDeletes",
    "IngestionInterrupted",
)
# Entra's quarantine page spells one reason differently from the enum.
_QUARANTINE_REASON_ALIASES = {"quarantineondemand": "QuarantinedOnDemand"}


def _enum_lookup(names: Iterable[str], aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    lookup = {name.casefold(): name for name in names}
    lookup.update(aliases or {})
    return lookup


_STATUS_CODE_LOOKUP = _enum_lookup(STATUS_CODES)
_SCHEDULE_STATE_LOOKUP = _enum_lookup(SCHEDULE_STATES)
_EXECUTION_STATE_LOOKUP = _enum_lookup(EXECUTION_STATES)
_QUARANTINE_REASON_LOOKUP = _enum_lookup(QUARANTINE_REASONS, _QUARANTINE_REASON_ALIASES)


def _as_enum(value: object, lookup: Mapping[str, str]) -> str | None:
    """Canonical case for a known value, the value as given for an unknown one, None for nothing."""
    text = _as_text(value)
    if text is None:
        return None
    return lookup.get(text.strip().casefold(), text)


# ---------------------------------------------------------------------------------------------------
# Tolerant field readers: Graph sends null, "" and odd types where the schema says otherwise.

def _as_dict(value: object) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _as_text(value: object) -> str | None:
    """A non-blank string as given, else None."""
    if isinstance(value, str) and value.strip():
        return value
    return None


_INT_TEXT_RE = re.compile(r"^\s*[+-]?[0-9]{1,18}\s*\Z")


def _as_int(value: object) -> int | None:
    """An int from an int, an integral float or a decimal string (Int64 may be sent as a string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT_TEXT_RE.match(value):
        return int(value)
    return None


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().casefold() in ("true", "false"):
        return value.strip().casefold() == "true"
    return None


_DATETIME_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<fraction>\.\d+)?(?P<zone>Z|z|[+-]\d{2}:?\d{2})?)?\Z",
    re.ASCII,
)


def parse_datetime(value: object) -> datetime | None:
    """A Graph DateTimeOffset as an aware datetime (UTC when no zone is given), or None.

    None for null, "", anything not ISO 8601, and the "never" value 0001-01-01T00:00:00Z. Fractions finer
    than a microsecond (Graph sends 7 digits) are truncated.
    """
    text = _as_text(value)
    if text is None:
        return None
    match = _DATETIME_RE.match(text.strip())
    if not match:
        return None
    try:
        parsed = datetime.fromisoformat(f"{match['date']}T{match['time'] or '00:00'}")
        if match["fraction"]:
            parsed = parsed.replace(microsecond=int(match["fraction"][1:7].ljust(6, "0")))
        zone = match["zone"]
        if zone is None or zone in ("Z", "z"):
            tzinfo = timezone.utc
        else:
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            tzinfo = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        parsed = parsed.replace(tzinfo=tzinfo)
    except ValueError:
        # Out-of-range parts (month 13, offset beyond a day): not a date.
        return None
    if parsed.year <= 1:
        return None
    return parsed


def _as_timestamp(value: object) -> str | None:
    """The ISO string as Graph sent it (full precision kept), or None when it is no date."""
    if not isinstance(value, str) or parse_datetime(value) is None:
        return None
    return value.strip()


# ---------------------------------------------------------------------------------------------------
# The job model

@dataclass(frozen=True)
class SyncError:
    """A synchronizationError: on a task execution or a quarantine."""

    code: str | None = None
    message: str | None = None
    tenant_actionable: bool | None = None

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "tenant_actionable": self.tenant_actionable}


def _parse_error(raw: object) -> SyncError | None:
    if not isinstance(raw, Mapping):
        return None
    error = SyncError(
        code=_as_text(raw.get("code")),
        message=_as_text(raw.get("message")),
        tenant_actionable=_as_bool(raw.get("tenantActionable")),
    )
    return None if error == SyncError() else error


@dataclass(frozen=True)
class Quarantine:
    """A synchronizationQuarantine. Its dates and reason can be empty strings on the wire: those are None."""

    reason: str | None = None
    current_began: str | None = None
    next_attempt: str | None = None
    series_began: str | None = None
    series_count: int | None = None
    error: SyncError | None = None

    def to_dict(self) -> dict:
        return {
            "reason": self.reason,
            "current_began": self.current_began,
            "next_attempt": self.next_attempt,
            "series_began": self.series_began,
            "series_count": self.series_count,
            "error": self.error.to_dict() if self.error else None,
        }


def _parse_quarantine(raw: object) -> Quarantine | None:
    if not isinstance(raw, Mapping):
        return None
    return Quarantine(
        reason=_as_enum(raw.get("reason"), _QUARANTINE_REASON_LOOKUP),
        current_began=_as_timestamp(raw.get("currentBegan")),
        next_attempt=_as_timestamp(raw.get("nextAttempt")),
        series_began=_as_timestamp(raw.get("seriesBegan")),
        series_count=_as_int(raw.get("seriesCount")),
        error=_parse_error(raw.get("error")),
    )


@dataclass(frozen=True)
class Job:
    """One synchronization job and its status, flattened. Every field may be None except the counters."""

    service_principal_id: str | None = None
    service_principal_name: str | None = None
    app_id: str | None = None
    job_id: str | None = None
    template_id: str | None = None
    status_code: str | None = None
    schedule_state: str | None = None
    schedule_interval: str | None = None
    quarantine: Quarantine | None = None
    last_execution_state: str | None = None
    last_execution_error: SyncError | None = None
    last_execution_time_began: str | None = None
    last_execution_time_ended: str | None = None
    last_successful_execution_time: str | None = None
    count_successive_complete_failures: int = 0
    escrows_pruned: bool | None = None
    steady_state_last_achieved_time: str | None = None
    troubleshooting_url: str | None = None
    # (key, count) pairs rather than a dict, so that a Job stays hashable.
    synchronized_entry_counts: tuple[tuple[str, int], ...] = field(default=())

    @property
    def quarantine_reason(self) -> str | None:
        """Reported whenever a quarantine object carries one, whatever the status code."""
        return self.quarantine.reason if self.quarantine else None

    @property
    def quarantined(self) -> bool:
        """Status code Quarantine. A Paused job that carries a quarantine object is paused, not quarantined."""
        return self.status_code == "Quarantine"

    @property
    def failed(self) -> bool:
        return self.last_execution_state == "Failed"

    @property
    def entry_errors(self) -> bool:
        return self.last_execution_state == "EntryLevelErrors"

    @property
    def paused(self) -> bool:
        return self.status_code == "Paused" or self.schedule_state == "Paused"

    def to_dict(self) -> dict:
        """The snake_case shape sync_job_info returns; feeds sync_job_restart's jobs option as is."""
        return {
            "service_principal_id": self.service_principal_id,
            "service_principal_name": self.service_principal_name,
            "app_id": self.app_id,
            "job_id": self.job_id,
            "template_id": self.template_id,
            "status_code": self.status_code,
            "schedule_state": self.schedule_state,
            "schedule_interval": self.schedule_interval,
            "quarantine_reason": self.quarantine_reason,
            "quarantine": self.quarantine.to_dict() if self.quarantine else None,
            "last_execution_state": self.last_execution_state,
            "last_execution_error": self.last_execution_error.to_dict() if self.last_execution_error else None,
            "last_execution_time_began": self.last_execution_time_began,
            "last_execution_time_ended": self.last_execution_time_ended,
            "last_successful_execution_time": self.last_successful_execution_time,
            "count_successive_complete_failures": self.count_successive_complete_failures,
            "escrows_pruned": self.escrows_pruned,
            "steady_state_last_achieved_time": self.steady_state_last_achieved_time,
            "troubleshooting_url": self.troubleshooting_url,
            "synchronized_entry_counts": dict(self.synchronized_entry_counts),
        }


def _first_text(raw: Mapping, *keys: str) -> str | None:
    for key in keys:
        text = _as_text(raw.get(key))
        if text is not None:
            return text
    return None


def _parse_entry_counts(raw: object) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    if isinstance(raw, list):
        for pair in raw:
            pair = _as_dict(pair)
            key = _as_text(pair.get("key"))
            value = _as_int(pair.get("value"))
            if key is not None and value is not None:
                counts[key] = value
    return tuple(counts.items())


def parse_job(raw: object, service_principal: object = None) -> Job:
    """A Job from Graph's synchronizationJob JSON. Never raises: what can't be read is None.

    ``service_principal`` names the job's owner: a dict with Graph keys (id, displayName, appId) or snake_case
    ones (service_principal_id or id, service_principal_name or display_name, app_id), or the id as a string.
    """
    if isinstance(service_principal, str):
        service_principal = {"id": service_principal}
    owner = _as_dict(service_principal)
    job = _as_dict(raw)
    schedule = _as_dict(job.get("schedule"))
    status = _as_dict(job.get("status"))
    last_execution = _as_dict(status.get("lastExecution"))
    last_success = _as_dict(status.get("lastSuccessfulExecution"))
    return Job(
        service_principal_id=_first_text(owner, "id", "service_principal_id"),
        service_principal_name=_first_text(owner, "displayName", "display_name", "service_principal_name"),
        app_id=_first_text(owner, "appId", "app_id"),
        job_id=_as_text(job.get("id")),
        template_id=_as_text(job.get("templateId")),
        status_code=_as_enum(status.get("code"), _STATUS_CODE_LOOKUP),
        schedule_state=_as_enum(schedule.get("state"), _SCHEDULE_STATE_LOOKUP),
        schedule_interval=_as_text(schedule.get("interval")),
        quarantine=_parse_quarantine(status.get("quarantine")),
        last_execution_state=_as_enum(last_execution.get("state"), _EXECUTION_STATE_LOOKUP),
        last_execution_error=_parse_error(last_execution.get("error")),
        last_execution_time_began=_as_timestamp(last_execution.get("timeBegan")),
        last_execution_time_ended=_as_timestamp(last_execution.get("timeEnded")),
        last_successful_execution_time=_as_timestamp(last_success.get("timeEnded")),
        count_successive_complete_failures=_as_int(status.get("countSuccessiveCompleteFailures")) or 0,
        escrows_pruned=_as_bool(status.get("escrowsPruned")),
        steady_state_last_achieved_time=_as_timestamp(status.get("steadyStateLastAchievedTime")),
        troubleshooting_url=_as_text(status.get("troubleshootingUrl")),
        synchronized_entry_counts=_parse_entry_counts(status.get("synchronizedEntryCountByType")),
    )


def job_from_dict(data: object) -> Job:
    """A Job from the snake_case dict sync_job_info returns, for the status decisions (never raises).

    The inverse of Job.to_dict() for the fields decisions and reports use; other fields are left empty.
    """
    data = _as_dict(data)
    raw_quarantine = _as_dict(data.get("quarantine"))
    reason = _as_enum(raw_quarantine.get("reason") or data.get("quarantine_reason"), _QUARANTINE_REASON_LOOKUP)
    quarantine = None
    if raw_quarantine or reason:
        quarantine = Quarantine(
            reason=reason,
            current_began=_as_timestamp(raw_quarantine.get("current_began")),
            next_attempt=_as_timestamp(raw_quarantine.get("next_attempt")),
            series_began=_as_timestamp(raw_quarantine.get("series_began")),
            series_count=_as_int(raw_quarantine.get("series_count")),
        )
    return Job(
        service_principal_id=_as_text(data.get("service_principal_id")),
        service_principal_name=_as_text(data.get("service_principal_name")),
        app_id=_as_text(data.get("app_id")),
        job_id=_as_text(data.get("job_id")),
        template_id=_as_text(data.get("template_id")),
        status_code=_as_enum(data.get("status_code"), _STATUS_CODE_LOOKUP),
        schedule_state=_as_enum(data.get("schedule_state"), _SCHEDULE_STATE_LOOKUP),
        quarantine=quarantine,
        last_execution_state=_as_enum(data.get("last_execution_state"), _EXECUTION_STATE_LOOKUP),
        count_successive_complete_failures=_as_int(data.get("count_successive_complete_failures")) or 0,
    )


def status_diff(job: Job) -> dict:
    """The status a restart acts on, as diff mode shows it."""
    return {
        "status_code": job.status_code,
        "schedule_state": job.schedule_state,
        "quarantine_reason": job.quarantine_reason,
        "last_execution_state": job.last_execution_state,
    }


# ---------------------------------------------------------------------------------------------------
# Restart conditions and the decision

RESTART_CONDITIONS = ("always", "quarantined", "failed", "entry_errors", "paused")
_VALID_CONDITIONS = ", ".join(RESTART_CONDITIONS)


def validate_conditions(values: object) -> list[str]:
    """restart_if as a deduplicated list in the user's order, or InputError."""
    if isinstance(values, str):
        values = values.split(",") if values.strip() else []
    if not isinstance(values, (list, tuple)) or not values:
        raise InputError(f"restart_if is empty: give one or more of {_VALID_CONDITIONS} (always restarts whatever the status)")
    conditions = []
    for value in values:
        condition = value.strip().lower() if isinstance(value, str) else value
        if condition not in RESTART_CONDITIONS:
            raise InputError(f"restart_if {_show(value)} is not a condition: valid conditions are {_VALID_CONDITIONS}")
        if condition not in conditions:
            conditions.append(condition)
    return conditions


def _status_phrase(job: Job) -> str:
    if job.status_code is None:
        return "status unknown"
    if job.quarantined and job.quarantine_reason:
        return f"status {job.status_code} ({job.quarantine_reason})"
    if job.quarantine_reason:
        return f"status {job.status_code}, quarantine reason {job.quarantine_reason}"
    return f"status {job.status_code}"


def _schedule_phrase(job: Job) -> str:
    return f"schedule {job.schedule_state}"


def _last_run_phrase(job: Job) -> str:
    return f"last run {job.last_execution_state}"


def describe_status(job: Job) -> str:
    """One line for messages: 'status Paused, schedule Disabled, last run Failed'."""
    parts = [_status_phrase(job)]
    if job.schedule_state not in (None, "Active", job.status_code):
        parts.append(_schedule_phrase(job))
    if job.last_execution_state is not None:
        parts.append(_last_run_phrase(job))
    return ", ".join(parts)


def _paused_phrase(job: Job) -> str:
    return _status_phrase(job) if job.status_code == "Paused" else _schedule_phrase(job)


# The status conditions are Job properties of the same name; this says which fact a match reports.
_MATCHED_FACT = {
    "quarantined": _status_phrase,
    "failed": _last_run_phrase,
    "entry_errors": _last_run_phrase,
    "paused": _paused_phrase,
}


def matching_conditions(job: Job) -> tuple[str, ...]:
    """The status conditions (all but 'always') that the job matches, in RESTART_CONDITIONS order."""
    return tuple(condition for condition in _MATCHED_FACT if getattr(job, condition))


@dataclass(frozen=True)
class Decision:
    """Whether to restart a job, why (one line for the user), and which restart_if conditions matched."""

    restart: bool
    reason: str
    matched: tuple[str, ...] = ()


def decide_restart(job: Job | Mapping, conditions: object) -> Decision:
    """Restart or leave alone, and why. Pure; defined for every job, including an unreadable one.

    ``job`` may also be raw Graph job JSON. ``conditions`` is restart_if; InputError if it is invalid.
    """
    if not isinstance(job, Job):
        job = parse_job(job)
    wanted = validate_conditions(conditions)
    if "always" in wanted:
        return Decision(True, f"restart_if always: {describe_status(job)}", ("always",))
    matched = tuple(condition for condition in wanted if getattr(job, condition))
    if not matched:
        return Decision(False, f"{describe_status(job)}: matches none of restart_if [{', '.join(wanted)}]")
    reasons = [f"{_MATCHED_FACT[condition](job)} matches restart_if {condition}" for condition in matched]
    return Decision(True, "; ".join(reasons), matched)


# ---------------------------------------------------------------------------------------------------
# Job lists (the fleet form)

@dataclass(frozen=True)
class JobTarget:
    """One job to act on. ``index`` is its position in the user's list; it is not part of its identity."""

    service_principal_id: str
    job_id: str
    index: int = field(default=0, compare=False)

    @property
    def label(self) -> str:
        return f"{self.service_principal_id}/{self.job_id}"


def normalize_job_targets(items: object) -> tuple[list[JobTarget], list[str]]:
    """Validate a jobs list and drop duplicates (first occurrence kept, input order kept).

    Each item is a dict with service_principal_id and job_id; other keys (a sync_job_info result's) are
    ignored. Returns the targets and one note per duplicate dropped.
    """
    if not isinstance(items, (list, tuple)):
        raise InputError(f"jobs {_show(items)} is not a list of {{service_principal_id, job_id}} dicts")
    if not items:
        raise InputError(
            "jobs is empty: give at least one {service_principal_id, job_id}. If the list comes from a filter "
            "that can find nothing, guard the task with when: <list> | length > 0"
        )
    targets: list[JobTarget] = []
    notes: list[str] = []
    first_seen: dict[JobTarget, JobTarget] = {}
    for index, item in enumerate(items):
        where = f"jobs[{index}]"
        if not isinstance(item, Mapping):
            raise InputError(f"{where} {_show(item)} is not a dict with service_principal_id and job_id")
        for key in ("service_principal_id", "job_id"):
            if key not in item:
                raise InputError(f"{where} has no {key}: each item needs service_principal_id and job_id")
        target = JobTarget(
            validate_service_principal_id(item["service_principal_id"], f"{where}.service_principal_id"),
            validate_job_id(item["job_id"], f"{where}.job_id"),
            index,
        )
        earlier = first_seen.get(target)
        if earlier is not None:
            notes.append(f"{where} duplicates jobs[{earlier.index}] ({target.label}): processed once")
            continue
        first_seen[target] = target
        targets.append(target)
    return targets, notes


# ---------------------------------------------------------------------------------------------------
# Results

ACTIONS = ("restarted", "would_restart", "skipped", "failed", "unknown")


def summarize(results: Iterable) -> dict[str, int]:
    """Counts per action, every action present, plus total.

    A result is a dict with an ``action`` key or an object with an ``action`` attribute. A result without a
    known action is counted as unknown: its outcome is not known, and the summary must still add up.
    """
    counts = dict.fromkeys(ACTIONS, 0)
    total = 0
    for result in results:
        action = result.get("action") if isinstance(result, Mapping) else getattr(result, "action", None)
        counts[action if isinstance(action, str) and action in ACTIONS else "unknown"] += 1
        total += 1
    counts["total"] = total
    return counts

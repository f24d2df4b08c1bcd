# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The synchronization job model: Graph's enums, tolerant readers, the Job and the words that describe its status.

Pure: standard library only, no I/O. Reading never raises: a field that can't be read is None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

__all__ = [
    "EXECUTION_STATES", "QUARANTINE_REASONS", "SCHEDULE_STATES", "STATUS_CODES", "Job", "Quarantine", "SyncError",
    "describe_status", "job_from_dict", "last_run_phrase", "parse_datetime", "parse_job", "schedule_phrase",
    "status_diff", "status_phrase",
]


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


def utc_now_iso() -> str:
    """Now in UTC, ISO 8601 to the microsecond: a job's status_read_at, the fleet timeline's steps, an event's time."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
        return asdict(self)


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
        # The field names are the snake_case keys; the nested error becomes a dict too.
        return asdict(self)


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

    @property
    def awaiting_cleanup(self) -> bool:
        """Paused with escrowsPruned: the initial cycle hit the error threshold, pruned escrows and paused, "waiting for
        the customer to clean up the errors" (graph-facts.md); starting or restarting it blindly is wrong."""
        return self.status_code == "Paused" and self.escrows_pruned is True

    def to_dict(self) -> dict:
        """The snake_case shape sync_job_info returns; feeds sync_job_restart's jobs option as is."""
        quarantine_error = self.quarantine.error if self.quarantine else None
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
            # Flat copies of the quarantine's error: the reason is often null while the error says what is wrong.
            "quarantine_error_code": quarantine_error.code if quarantine_error else None,
            "quarantine_error_message": quarantine_error.message if quarantine_error else None,
            "quarantine_tenant_actionable": quarantine_error.tenant_actionable if quarantine_error else None,
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
    # The nested error (snake_case, as to_dict() writes it), else its flat copies beside it.
    raw_error = _as_dict(raw_quarantine.get("error"))
    error = _parse_error({
        "code": raw_error.get("code", data.get("quarantine_error_code")),
        "message": raw_error.get("message", data.get("quarantine_error_message")),
        "tenantActionable": raw_error.get("tenant_actionable", data.get("quarantine_tenant_actionable")),
    })
    quarantine = None
    if raw_quarantine or reason or error:
        quarantine = Quarantine(
            reason=reason,
            current_began=_as_timestamp(raw_quarantine.get("current_began")),
            next_attempt=_as_timestamp(raw_quarantine.get("next_attempt")),
            series_began=_as_timestamp(raw_quarantine.get("series_began")),
            series_count=_as_int(raw_quarantine.get("series_count")),
            error=error,
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
        escrows_pruned=_as_bool(data.get("escrows_pruned")),
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
# The status in words, for messages


def status_phrase(job: Job | None) -> str:
    """'status Quarantine (TooManyDeletes)'; 'status unknown' for no job or no status code."""
    if job is None or job.status_code is None:
        return "status unknown"
    if job.quarantined and job.quarantine_reason:
        return f"status {job.status_code} ({job.quarantine_reason})"
    if job.quarantine_reason:
        return f"status {job.status_code}, quarantine reason {job.quarantine_reason}"
    return f"status {job.status_code}"


def schedule_phrase(job: Job) -> str:
    return f"schedule {job.schedule_state}"


def last_run_phrase(job: Job) -> str:
    return f"last run {job.last_execution_state}"


def describe_status(job: Job) -> str:
    """One line for messages: 'status Paused, schedule Disabled, last run Failed'."""
    parts = [status_phrase(job)]
    if job.schedule_state not in (None, "Active", job.status_code):
        parts.append(schedule_phrase(job))
    if job.last_execution_state is not None:
        parts.append(last_run_phrase(job))
    return ", ".join(parts)

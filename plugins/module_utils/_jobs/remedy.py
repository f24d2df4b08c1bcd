# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What fixes a job: the remedy, one line naming what a person does, and when a quarantine disables the job.

Pure: no I/O, no clock. Microsoft's quarantine and troubleshooting pages say a restart fixes only some quarantines
(graph-facts.md, "Quarantine: what fixes which"); diagnose() is that table, written once, and every module, the
inventory, the fleet report and the self-heal events show its answer.

Order: a Paused job with escrowsPruned waits for someone to clean up errors; then a quarantine (status Quarantine,
or a Paused job that still carries one, as a job disabled after four weeks in quarantine does) by its error code,
then its reason; anything else by restart_if (the conditions): a job that matches none of them is healthy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import ESCROWS_PRUNED_WARNING, Decision, decide_restart, validate_choices
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import Job, Quarantine, job_from_dict, parse_datetime

__all__ = [
    "DEFAULT_CONDITIONS",
    "DISABLED_AFTER",
    "ESCROW_REASONS",
    "REMEDIES",
    "SOON",
    "Remedy",
    "deadline_key",
    "decide_restart_remedy",
    "remedy_counts",
    "diagnose",
    "diagnose_dict",
    "disables_soon",
    "validate_remedies",
]

REMEDIES = ("none", "restart", "credentials", "fix_target", "approve_deletes", "support", "clean_up_errors")
# What a job with no restart_if in sight is measured against: the fleet playbook's default.
DEFAULT_CONDITIONS = ("quarantined",)
# "A job quarantined for more than four weeks is disabled."
DISABLED_AFTER = timedelta(days=28)
# A deadline this close comes first in escalations and the report, marked.
SOON = timedelta(days=7)

ESCROW_REASONS = ("EncounteredEscrowProportionThreshold", "EncounteredBaseEscrowThreshold", "EncounteredTotalEscrowThreshold")
_EXCEPTION_REASON = "EncounteredQuarantineException"

_RESTART_AFTER = "then restart the job"
_SUPPORT = "contact Microsoft support"

# quarantine.error.code seen in practice -> (remedy, what it means: what a person does). Any reason: the code is the
# more precise of the two. Compared case-insensitively.
_ERROR_CODES = {
    "SystemForCrossDomainIdentityManagementCredentialValidationFailure": (
        "credentials", f"the application's credentials are expired or revoked: get a new secret token, test it, save it, {_RESTART_AFTER}"),
    "AzureActiveDirectoryInvalidCredential": (
        "credentials", f"the Cloud Sync service account's credentials are invalid: repair the service account, {_RESTART_AFTER}"),
    "AzureActiveDirectoryExpiredCredentials": (
        "credentials", f"the Cloud Sync service account's credentials have expired: repair the service account, {_RESTART_AFTER}"),
    "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable": (
        "fix_target", f"the application is unreachable or failing: fix its connectivity (tenant URL, SCIM endpoint), test the connection, {_RESTART_AFTER}"),
    "HybridIdentityServiceNoAgentsAssigned": (
        "fix_target", f"no provisioning agent is assigned to the configuration: re-register the agent (or assign one), {_RESTART_AFTER}"),
    "HybridIdentityServiceNoActiveAgents": (
        "fix_target", f"no provisioning agent is active: make sure an agent runs and reaches Microsoft Entra ID, re-register it, {_RESTART_AFTER}"),
    "HybridIdentityServiceInvalidResource": (
        "fix_target", f"the provisioning agent's registration is not valid: re-register the agent, {_RESTART_AFTER}"),
    "AzureDirectoryB2BManagementPolicyCheckFailure": (
        "fix_target", f"the cross-tenant access policy check failed: enable automatic redemption in both tenants, {_RESTART_AFTER}"),
    "AzureDirectoryServiceServerBusy": (
        "support", f"Microsoft Entra ID is busy and the service retries by itself: {_SUPPORT} if it lasts more than 24 hours"),
    "HybridSynchronizationActiveDirectoryInternalServerError": (
        "support", f"Active Directory answered with an internal error: {_SUPPORT}"),
    "HybridIdentityServiceAgentSignalingError": (
        "support", f"the service could not signal the provisioning agent: {_SUPPORT}"),
    "AzureActiveDirectoryAuthenticationFailed": (
        "support", f"the service could not authenticate to Microsoft Entra ID: {_SUPPORT}"),
}
_ERROR_CODE_LOOKUP = {code.casefold(): (code,) + answer for code, answer in _ERROR_CODES.items()}

# quarantine.reason -> (remedy, what a person does); a reason not here (Unknown, IngestionInterrupted, a new one, none)
# is undocumented: support.
_REASONS = {
    **{reason: ("restart", "too many provisioning failures: fix the failing objects (see the provisioning logs), then restart "
                           "the job with Escrows; it is quarantined again if the errors persist") for reason in ESCROW_REASONS},
    "TooManyDeletes": ("approve_deletes", "the accidental-deletion threshold was crossed: review the pending deletes, then release "
                                          "them (restart with ForceDeletes) or fix their cause; don't restart until you've made the changes"),
    "QuarantinedOnDemand": ("support", f"Microsoft quarantined the job by hand: {_SUPPORT}"),
}
_TRANSIENT_ONLY = "a restart alone helps only when the fault was transient"
_CLEAN_UP = f"{ESCROWS_PRUNED_WARNING}: clean up the errors (see the provisioning logs), then start the job"


@dataclass(frozen=True)
class Remedy:
    """What fixes a job: ``remedy`` (one of REMEDIES), ``remedy_reason`` (one line: what a person does) and
    ``disables_at`` (a quarantine's seriesBegan + 28 days, ISO 8601 UTC; None when not quarantined or unknown)."""

    remedy: str
    remedy_reason: str
    disables_at: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _disables_at(quarantine: Quarantine) -> str | None:
    began = parse_datetime(quarantine.series_began)
    if began is None:
        return None
    return (began + DISABLED_AFTER).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _carries_quarantine(job: Job) -> bool:
    """Quarantined, or Paused with a quarantine that says something (its reason or its error): the quarantine's fix applies."""
    quarantine = job.quarantine
    if job.quarantined:
        return True
    return job.status_code == "Paused" and quarantine is not None and (quarantine.reason is not None or quarantine.error is not None)


def _diagnose_quarantine(quarantine: Quarantine) -> tuple[str, str]:
    """(remedy, remedy_reason) of a quarantine: its error code when known, else its reason."""
    error = quarantine.error
    code = error.code if error else None
    known = _ERROR_CODE_LOOKUP.get(code.strip().casefold()) if code else None
    if known:
        canonical, remedy, reason = known
        return remedy, f"{reason} (quarantine error {canonical})"
    reason = quarantine.reason
    seen = f"quarantine reason {reason}" + (f", error {code}" if code else "")
    if reason in _REASONS:
        remedy, line = _REASONS[reason]
        return remedy, f"{line} ({seen})"
    if reason == _EXCEPTION_REASON:
        # "Credentials invalid or the target unreachable": a restart clears it only when the fault was transient.
        if error is not None and error.tenant_actionable is True:
            return "credentials", (f"the credentials are invalid or the application is unreachable and the tenant can act: "
                                   f"test new credentials and save them, {_RESTART_AFTER}; {_TRANSIENT_ONLY} ({seen}, tenant actionable)")
        return "restart", (f"the credentials were invalid or the application unreachable: restart the job; {_TRANSIENT_ONLY}, so if it "
                           f"is quarantined again, test and save new credentials or fix the application ({seen})")
    if reason is None:
        return "support", f"the quarantine gives no reason: {_SUPPORT}" + (f" (quarantine error {code})" if code else "")
    return "support", f"Microsoft's docs do not say what fixes this quarantine: {_SUPPORT} ({seen})"


def diagnose(job: Job, conditions: Iterable[str] = DEFAULT_CONDITIONS) -> Remedy:
    """What fixes one job. Pure and total: any Job, unreadable ones included.

    ``conditions`` is restart_if (validated here, InputError if invalid): it says which statuses besides a quarantine
    want a restart (failed, entry_errors, paused, always). A quarantine and a Paused job with escrowsPruned are
    diagnosed whatever it says, since neither is healthy.
    """
    if job.awaiting_cleanup:
        return Remedy("clean_up_errors", _CLEAN_UP)
    if _carries_quarantine(job):
        remedy, reason = _diagnose_quarantine(job.quarantine or Quarantine())
        return Remedy(remedy, reason, _disables_at(job.quarantine) if job.quarantine else None)
    decision = decide_restart(job, list(conditions))
    if decision.restart:
        return Remedy("restart", f"{decision.reason}: restart the job")
    return Remedy("none", f"nothing to fix: {decision.reason}")


def diagnose_dict(job: Mapping, conditions: Iterable[str] = DEFAULT_CONDITIONS) -> dict:
    """The three keys (remedy, remedy_reason, disables_at) of a job dict as sync_job_info returns it (job.job_from_dict)."""
    return diagnose(job_from_dict(job), conditions).to_dict()


def remedy_counts(*many: object) -> dict:
    """How many jobs need each remedy (every remedy but none, zeros included), added up over counts given as dicts of
    remedy -> number or lists of them: sync_job_info's remedy_counts of the jobs it found, and the fleet report's sum of
    every tenant's."""
    total = dict.fromkeys((remedy for remedy in REMEDIES if remedy != "none"), 0)
    for counts in many:
        for one in counts if isinstance(counts, list) else [counts]:
            for name, number in (one or {}).items():
                if name in total:
                    total[name] += int(number or 0)
    return total


def validate_remedies(values: object) -> tuple[str, ...]:
    """restart_remedies as a deduplicated tuple in the user's order, or InputError naming the valid remedies."""
    return tuple(validate_choices(values, REMEDIES, "restart_remedies", "remedy", "restart: the quarantines a restart can fix"))


def decide_restart_remedy(job: Job, conditions: Iterable[str], remedies: Iterable[str] | None = None,
                          allow_escrows_pruned: bool = False) -> tuple[Decision, Remedy]:
    """(decisions.decide_restart, diagnose) of one job, with the remedy filter: a job restart_if picks is held back when
    ``remedies`` (restart_remedies; None: no filter) does not hold its remedy. Pure."""
    conditions = list(conditions)
    diagnosis = diagnose(job, conditions)
    decision = decide_restart(job, conditions, allow_escrows_pruned)
    if decision.restart and remedies is not None and diagnosis.remedy not in remedies:
        decision = Decision(False, f"{decision.reason}, but its remedy is {diagnosis.remedy}, not one of restart_remedies "
                                   f"[{', '.join(remedies)}]: {diagnosis.remedy_reason}", decision.matched)
    return decision, diagnosis


def _as_utc(value: object) -> datetime | None:
    when = value if isinstance(value, datetime) else parse_datetime(value)
    return when.astimezone(timezone.utc) if when is not None else None


def disables_soon(disables_at: object, now: datetime) -> bool:
    """Whether a disables_at (ISO text or datetime) falls within SOON of now, or has passed. False when unknown."""
    when = _as_utc(disables_at)
    return when is not None and when - now <= SOON


def deadline_key(disables_at: object) -> tuple:
    """A sort key: the soonest disables_at first, the unknown ones last."""
    when = _as_utc(disables_at)
    return (when is None, when or datetime.max.replace(tzinfo=timezone.utc))

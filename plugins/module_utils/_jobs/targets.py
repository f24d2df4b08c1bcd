# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which jobs to act on: service principal and job id validation, JobTarget and the jobs list.

Pure: standard library only, no I/O. Every bad value gets an InputError that says what to pass instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError

__all__ = [
    "GUID_RE",
    "JOB_ID_RE",
    "MAX_JOB_ID_LENGTH",
    "JobTarget",
    "normalize_job_targets",
    "show_value",
    "validate_job_id",
    "validate_service_principal_id",
]


# How much of a bad value an error message shows: enough to recognise it, never a whole pasted file.
_SHOWN_CHARS = 80


def show_value(value: object) -> str:
    """repr() of a user value for an error message, truncated."""
    if isinstance(value, str):
        if len(value) > _SHOWN_CHARS:
            return f"{value[:_SHOWN_CHARS]!r}... ({len(value)} characters)"
        return repr(value)
    text = repr(value)
    if len(text) > _SHOWN_CHARS:
        text = text[:_SHOWN_CHARS] + "..."
    return f"{text} (a {type(value).__name__})"


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
        raise InputError(f"{name} {show_value(value)} is not a GUID string: pass the service principal's object id, e.g. {_EXAMPLE_GUID}")
    if GUID_RE.match(value):
        # Graph returns ids in lower case; one spelling makes duplicates findable.
        return value.lower()
    hint = ""
    if GUID_RE.match(value.strip()):
        hint = " (it has leading or trailing whitespace)"
    elif GUID_RE.match(value.strip("{}")):
        hint = " (drop the braces)"
    raise InputError(
        f"{name} {show_value(value)} is not a GUID{hint}: pass the service principal's object id "
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
        raise InputError(f"{name} {show_value(value)} is not a string: {_JOB_ID_RULE}")
    if value in (".", ".."):
        raise InputError(f"{name} {value!r} is a path segment, not a job id: {_JOB_ID_RULE}")
    if len(value) > MAX_JOB_ID_LENGTH:
        raise InputError(f"{name} {show_value(value)} is too long for a job id (at most {MAX_JOB_ID_LENGTH} characters): {_JOB_ID_RULE}")
    if JOB_ID_RE.match(value):
        return value
    bad = sorted({char for char in value if not JOB_ID_RE.match(char)})
    shown = " ".join(repr(char) for char in bad[:10])
    hint = ""
    if "%" in value:
        hint = "; pass the id unencoded, the module quotes it"
    elif value.strip() != value:
        hint = "; remove the surrounding whitespace"
    raise InputError(f"{name} {show_value(value)} is not a synchronization job id (it contains {shown}{hint}): {_JOB_ID_RULE}")


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
        raise InputError(f"jobs {show_value(items)} is not a list of {{service_principal_id, job_id}} dicts")
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
            raise InputError(f"{where} {show_value(item)} is not a dict with service_principal_id and job_id")
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

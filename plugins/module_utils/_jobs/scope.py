# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The restart scope (criteria.resetScope): the user's names to the wire string, back, and the restart body.

Pure: standard library only, no I/O.
"""

from __future__ import annotations

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import show_value

__all__ = [
    "RESET_SCOPE_FLAGS",
    "RESET_SCOPE_ORDER",
    "build_reset_scope",
    "parse_reset_scope",
    "restart_body",
]

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
                raise InputError(f"reset_scope item {show_value(item)} is not a name: valid names are {_VALID_SCOPES}")
            # A list item can still carry a comma-separated string (Ansible's list type splits on ',' itself).
            split.extend(item.split(","))
        return split
    raise InputError(f"reset_scope {show_value(names)} is not a list of names: valid names are {_VALID_SCOPES}")


def _canonical_scope(name: str) -> str:
    stripped = name.strip()
    if not stripped:
        raise InputError(
            "reset_scope has an empty name: valid names are "
            f"{_VALID_SCOPES}; omit reset_scope (or pass []) to send empty criteria, the admin center's default"
        )
    canonical = _SCOPE_BY_FOLDED_NAME.get(stripped.casefold())
    if canonical is None:
        raise InputError(f"reset_scope {show_value(stripped)} is not a restart scope: valid names are {_VALID_SCOPES}")
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

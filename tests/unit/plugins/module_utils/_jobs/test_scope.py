# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the restart scope: names to the wire string and back, and the restart body."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._jobs.scope import (
    RESET_SCOPE_FLAGS,
    RESET_SCOPE_ORDER,
    build_reset_scope,
    parse_reset_scope,
    restart_body,
)


def test_scope_flags_are_the_documented_values():
    assert RESET_SCOPE_FLAGS == {
        "None": 0,
        "ConnectorDataStore": 1,
        "Escrows": 2,
        "Watermark": 4,
        "QuarantineState": 8,
        "Full": 15,
        "ForceDeletes": 32,
    }
    assert RESET_SCOPE_FLAGS["Full"] == sum(RESET_SCOPE_FLAGS[name] for name in ("ConnectorDataStore", "Escrows", "Watermark", "QuarantineState"))
    assert set(RESET_SCOPE_ORDER) == set(RESET_SCOPE_FLAGS) - {"None"}
    assert [RESET_SCOPE_FLAGS[name] for name in RESET_SCOPE_ORDER] == sorted(RESET_SCOPE_FLAGS[name] for name in RESET_SCOPE_ORDER)


@pytest.mark.parametrize("names", [None, [], ()])
def test_no_scope_means_empty_criteria(names):
    assert build_reset_scope(names) == (None, [])
    assert restart_body(None) == {"criteria": {}}


@pytest.mark.parametrize(
    "names, expected",
    [
        (["Watermark", "Escrows", "QuarantineState"], "Escrows, Watermark, QuarantineState"),
        (["QuarantineState", "Watermark"], "Watermark, QuarantineState"),
        (["watermark", "ESCROWS", "quarantinestate"], "Escrows, Watermark, QuarantineState"),
        ("Watermark, Escrows, QuarantineState", "Escrows, Watermark, QuarantineState"),
        ("Watermark,Escrows", "Escrows, Watermark"),
        (["Watermark, Escrows"], "Escrows, Watermark"),
        ([" Watermark", " Escrows "], "Escrows, Watermark"),
        (["Watermark", "watermark", "WATERMARK"], "Watermark"),
        (("Escrows",), "Escrows"),
        (["ForceDeletes"], "ForceDeletes"),
        (["ForceDeletes", "QuarantineState"], "QuarantineState, ForceDeletes"),
    ],
)
def test_scope_is_canonical_deduplicated_and_ordered(names, expected):
    assert build_reset_scope(names) == (expected, [])


def test_scope_body_carries_the_string():
    scope, _warnings = build_reset_scope(["Watermark", "Escrows", "QuarantineState"])
    assert restart_body(scope) == {"criteria": {"resetScope": "Escrows, Watermark, QuarantineState"}}
    assert restart_body(scope) is not restart_body(scope)


@pytest.mark.parametrize("names", [["None"], "none", ["Watermark", "NONE"]])
def test_scope_none_is_refused_pointing_to_sync_job(names):
    with pytest.raises(InputError) as raised:
        build_reset_scope(names)
    assert "entra.sync.sync_job" in str(raised.value)
    assert "state: started" in str(raised.value)


@pytest.mark.parametrize("names", [["Watermarks"], "Watermark, Bogus", ["QuarantineStates"], ["Escrow"]])
def test_scope_unknown_name_lists_the_valid_ones(names):
    with pytest.raises(InputError) as raised:
        build_reset_scope(names)
    message = str(raised.value)
    assert "is not a restart scope" in message
    for name in RESET_SCOPE_ORDER:
        assert name in message


@pytest.mark.parametrize("names", ["", [""], ["Watermark", ""], "Watermark,,Escrows", "Watermark,", ["  "]])
def test_scope_empty_name_is_refused(names):
    with pytest.raises(InputError, match="reset_scope has an empty name") as raised:
        build_reset_scope(names)
    assert "omit reset_scope" in str(raised.value)


@pytest.mark.parametrize("names", [42, {"Watermark": True}, [4], ["Watermark", None]])
def test_scope_wrong_types_are_refused(names):
    with pytest.raises(InputError):
        build_reset_scope(names)


@pytest.mark.parametrize("names", [["ConnectorDataStore"], ["connectordatastore", "Watermark"], "Escrows, ConnectorDataStore"])
def test_connector_data_store_needs_the_opt_in(names):
    with pytest.raises(InputError) as raised:
        build_reset_scope(names)
    message = str(raised.value)
    assert "allow_connector_data_store: true" in message
    assert "Microsoft Support" in message
    assert "for all users" in message


def test_connector_data_store_with_the_opt_in():
    assert build_reset_scope(["Watermark", "ConnectorDataStore"], allow_connector_data_store=True) == ("ConnectorDataStore, Watermark", [])


def test_full_is_refused_without_the_opt_in_because_it_contains_connector_data_store():
    with pytest.raises(InputError) as raised:
        build_reset_scope(["Full"])
    message = str(raised.value)
    assert "Full includes ConnectorDataStore" in message
    assert "allow_connector_data_store: true" in message
    assert "[Escrows, Watermark, QuarantineState]" in message


def test_full_with_the_opt_in_warns():
    scope, warnings = build_reset_scope(["full"], allow_connector_data_store=True)
    assert scope == "Full"
    assert len(warnings) == 1
    assert "Full includes ConnectorDataStore" in warnings[0]


def test_full_absorbs_its_members_but_not_force_deletes():
    scope, warnings = build_reset_scope(["Watermark", "Full", "ForceDeletes", "ConnectorDataStore"], allow_connector_data_store=True)
    assert scope == "Full, ForceDeletes"
    assert len(warnings) == 1


@pytest.mark.parametrize(
    "scope, expected",
    [
        (None, []),
        ("", []),
        ("  ", []),
        ("Watermark, Escrows, QuarantineState", ["Watermark", "Escrows", "QuarantineState"]),
        ("full,forcedeletes", ["Full", "ForceDeletes"]),
        ("Watermark, watermark", ["Watermark"]),
    ],
)
def test_parse_reset_scope(scope, expected):
    assert parse_reset_scope(scope) == expected


def test_parse_reset_scope_refuses_unknown_names():
    with pytest.raises(InputError):
        parse_reset_scope("Watermark, Bogus")


SCOPE_NAMES = [name for name in RESET_SCOPE_FLAGS if name != "None"]
CASE_CHANGES = st.sampled_from([str, str.lower, str.upper, str.swapcase])


@settings(max_examples=300, deadline=None)
@given(names=st.lists(st.tuples(st.sampled_from(SCOPE_NAMES), CASE_CHANGES), max_size=8), as_string=st.booleans())
def test_scope_round_trips(names, as_string):
    spelled = [change(name) for name, change in names]
    given_names = ", ".join(spelled) if as_string and spelled else spelled
    scope, warnings = build_reset_scope(given_names, allow_connector_data_store=True)
    if not spelled:
        assert scope is None
        return
    parsed = parse_reset_scope(scope)
    flags = {name for name, _change in names}
    # Same flags on the wire: the service ORs the names.
    assert _flag_value(parsed) == _flag_value(flags)
    assert parsed == [name for name in RESET_SCOPE_ORDER if name in parsed]
    assert build_reset_scope(parsed, allow_connector_data_store=True) == (scope, warnings)
    assert bool(warnings) == ("Full" in flags)


def _flag_value(names):
    value = 0
    for name in names:
        value |= RESET_SCOPE_FLAGS[name]
    return value

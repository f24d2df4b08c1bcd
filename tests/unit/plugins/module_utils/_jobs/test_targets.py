# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the targets: service principal and job id validation, and the jobs list."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import parse_job
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import (
    MAX_JOB_ID_LENGTH,
    JobTarget,
    normalize_job_targets,
    validate_job_id,
    validate_service_principal_id,
)
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._jobs.job_samples import (
    ACTIVE_JOB,
    JOB_ID,
    OTHER_JOB_ID,
    OTHER_SP_ID,
    SP_ID,
    quarantined_job,
)


@pytest.mark.parametrize("value", [SP_ID, SP_ID.upper(), "00000000-0000-0000-0000-000000000000"])
def test_service_principal_id_accepts_guids_and_lowercases(value):
    assert validate_service_principal_id(value) == value.lower()


@pytest.mark.parametrize(
    "value, hint",
    [
        (f" {SP_ID}", "whitespace"),
        (f"{SP_ID}\n", "whitespace"),
        (f"{{{SP_ID}}}", "braces"),
        ("Contoso SCIM app", "not the display name"),
        ("8a1b2c3d4e5f4a6b9c8d7e6f5a4b3c2d", "not a GUID"),
        ("8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2g", "not a GUID"),
        (SP_ID + "/synchronization", "not a GUID"),
        ("８a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d", "not a GUID"),
    ],
)
def test_service_principal_id_refuses_non_guids(value, hint):
    with pytest.raises(InputError) as raised:
        validate_service_principal_id(value)
    message = str(raised.value)
    assert message.startswith(f"service_principal_id {value!r} is not a GUID")
    assert hint in message
    assert "not the appId" in message
    assert "00000000-0000-0000-0000-000000000000" in message


@pytest.mark.parametrize("value", [None, ""])
def test_service_principal_id_refuses_empty(value):
    with pytest.raises(InputError, match="service_principal_id is empty"):
        validate_service_principal_id(value)


@pytest.mark.parametrize("value", [123, ["a"], {"id": SP_ID}, True])
def test_service_principal_id_refuses_non_strings(value):
    with pytest.raises(InputError, match="is not a GUID string"):
        validate_service_principal_id(value)


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)


@pytest.mark.parametrize("huge", ["x" * 100_000, "x/" * 50_000, " " * 100_000])
def test_messages_truncate_huge_inputs(huge):
    for validate in (validate_service_principal_id, validate_job_id):
        with pytest.raises(InputError) as raised:
            validate(huge)
        assert len(str(raised.value)) < 600
        assert "(100000 characters)" in str(raised.value)
    with pytest.raises(InputError) as raised:
        validate_service_principal_id(list(range(100_000)))
    assert len(str(raised.value)) < 600


def test_validator_names_the_field_it_was_given():
    with pytest.raises(InputError, match=r"^jobs\[4\]\.job_id "):
        validate_job_id("a/b", "jobs[4].job_id")


# ---------------------------------------------------------------------------------------------------
# job ids

@pytest.mark.parametrize(
    "value",
    [
        JOB_ID,
        OTHER_JOB_ID,
        "dataBricks.f5532fc709734b1a90e8a1fa9fd03a82.8442fd39-2183-419c-8732-74b6ce866bd5",
        "AD2AADProvisioning.c5357aa6263a46c8b990a7c935e24722.dcec0328-273b-4c51-9edb-5e22f2ae12c0",
        "Azure2Azure.0123456789abcdef0123456789abcdef",
        "some_job-1",
        "...",
        "a..b",
    ],
)
def test_job_id_accepts_opaque_ids(value):
    assert validate_job_id(value) == value


@pytest.mark.parametrize(
    "value, shown",
    [
        ("scim.abc/../../users", "'/'"),
        ("scim.abc/restart", "'/'"),
        ("scim.abc?x=1", "'?'"),
        ("scim.abc%2Frestart", "'%'"),
        ("scim.abc#frag", "'#'"),
        (" scim.abc", "' '"),
        ("scim.abc\n", "'\\n'"),
        ("scim.abc\t", "'\\t'"),
        ("scim.ab c", "' '"),
        ("scim.abcé", "'é'"),
        ("scim.abc\u200b", "'\\u200b'"),
        ("scim.ａｂｃ", "'ａ'"),
        ("scim.abc\\x", "'\\\\'"),
    ],
)
def test_job_id_refuses_path_changing_and_foreign_characters(value, shown):
    with pytest.raises(InputError) as raised:
        validate_job_id(value)
    message = str(raised.value)
    assert message.startswith(f"job_id {value!r} is not a synchronization job id")
    assert shown in message.split(": ", maxsplit=1)[0]
    assert "A-Z and a-z, the digits 0-9, '.', '_' and '-'" in message
    assert "scim.0123456789abcdef0123456789abcdef" in message


def test_job_id_length_is_capped():
    assert validate_job_id("a" * MAX_JOB_ID_LENGTH) == "a" * MAX_JOB_ID_LENGTH
    with pytest.raises(InputError, match="is too long for a job id"):
        validate_job_id("a" * (MAX_JOB_ID_LENGTH + 1))


def test_job_id_percent_hint_says_pass_it_unencoded():
    with pytest.raises(InputError, match="pass the id unencoded"):
        validate_job_id("scim.abc%2Fx")


@pytest.mark.parametrize("value", [".", ".."])
def test_job_id_refuses_dot_segments(value):
    with pytest.raises(InputError, match="is a path segment, not a job id"):
        validate_job_id(value)


@pytest.mark.parametrize("value, match", [(None, "job_id is empty"), ("", "job_id is empty"), (42, "is not a string"), (["x"], "is not a string")])
def test_job_id_refuses_empty_and_non_strings(value, match):
    with pytest.raises(InputError, match=match):
        validate_job_id(value)


# ---------------------------------------------------------------------------------------------------
# job lists

def test_targets_keep_order_and_drop_duplicates():
    items = [
        {"service_principal_id": SP_ID, "job_id": JOB_ID},
        {"service_principal_id": OTHER_SP_ID, "job_id": JOB_ID},
        {"service_principal_id": SP_ID, "job_id": OTHER_JOB_ID},
        {"service_principal_id": SP_ID.upper(), "job_id": JOB_ID},
        {"service_principal_id": OTHER_SP_ID, "job_id": JOB_ID, "status_code": "Quarantine"},
    ]
    targets, notes = normalize_job_targets(items)
    assert targets == [JobTarget(SP_ID, JOB_ID), JobTarget(OTHER_SP_ID, JOB_ID), JobTarget(SP_ID, OTHER_JOB_ID)]
    assert [target.index for target in targets] == [0, 1, 2]
    assert notes == [
        f"jobs[3] duplicates jobs[0] ({SP_ID}/{JOB_ID}): processed once",
        f"jobs[4] duplicates jobs[1] ({OTHER_SP_ID}/{JOB_ID}): processed once",
    ]


def test_job_ids_differing_in_case_are_different_jobs():
    targets, notes = normalize_job_targets([
        {"service_principal_id": SP_ID, "job_id": "scim.abc"},
        {"service_principal_id": SP_ID, "job_id": "scim.ABC"},
    ])
    assert len(targets) == 2 and notes == []


def test_sync_job_info_results_feed_targets_directly():
    info_results = [parse_job(raw, {"id": SP_ID, "displayName": "App"}).to_dict() for raw in (ACTIVE_JOB, quarantined_job())]
    targets, notes = normalize_job_targets(info_results)
    assert [(target.service_principal_id, target.job_id) for target in targets] == [(SP_ID, JOB_ID), (SP_ID, OTHER_JOB_ID)]
    assert notes == []


def test_target_index_is_not_part_of_identity():
    assert JobTarget(SP_ID, JOB_ID, 0) == JobTarget(SP_ID, JOB_ID, 9)
    assert JobTarget(SP_ID, JOB_ID).label == f"{SP_ID}/{JOB_ID}"


@pytest.mark.parametrize(
    "items, match",
    [
        ([], r"^jobs is empty: "),
        ((), r"^jobs is empty: "),
        (None, "is not a list"),
        ({"service_principal_id": SP_ID, "job_id": JOB_ID}, "is not a list"),
        ("sp/job", "is not a list"),
        ([{"service_principal_id": SP_ID, "job_id": JOB_ID}, "x"], r"^jobs\[1\] 'x' is not a dict"),
        ([{"service_principal_id": SP_ID}], r"^jobs\[0\] has no job_id"),
        ([{"job_id": JOB_ID}], r"^jobs\[0\] has no service_principal_id"),
        ([{"service_principal_id": SP_ID, "job_id": JOB_ID}, {"service_principal_id": "App", "job_id": JOB_ID}],
         r"^jobs\[1\]\.service_principal_id 'App' is not a GUID"),
        ([{"service_principal_id": SP_ID, "job_id": "a/../b"}], r"^jobs\[0\]\.job_id 'a/\.\./b' is not a synchronization job id"),
        ([{"service_principal_id": SP_ID, "job_id": None}], r"^jobs\[0\]\.job_id is empty"),
    ],
)
def test_bad_job_lists_say_which_item(items, match):
    with pytest.raises(InputError, match=match):
        normalize_job_targets(items)

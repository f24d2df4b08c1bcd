# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the pure error decisions: Retry-After, error bodies, permission hints, one-line messages."""

from __future__ import annotations

import email.utils

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.entra.sync.plugins.module_utils._graph.messages import (
    RETRY_AFTER_MAX,
    describe_error,
    error_fields,
    is_synchronization_path,
    parse_retry_after,
    permission_hint,
)

SP_ID = "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
JOB_PATH = "/servicePrincipals/%s/synchronization/jobs/scim.0123456789abcdef0123456789abcdef" % SP_ID
RESTART_PATH = JOB_PATH + "/restart"
ROLES = ("Application Administrator", "Cloud Application Administrator", "Hybrid Identity Administrator")

# ---------------------------------------------------------------------------------------------------
# Retry-After


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2.128", 2.128),
        ("0.5", 0.5),
        ("3", 3.0),
        (" 7 ", 7.0),
        (3, 3.0),
        (0.25, 0.25),
        ("0", 0.0),
        ("-1", 0.0),
        ("-0.5", 0.0),
        ("1e9", RETRY_AFTER_MAX),
        ("86400", RETRY_AFTER_MAX),
        ("inf", RETRY_AFTER_MAX),
    ],
)
def test_retry_after_seconds(value, expected):
    assert parse_retry_after(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "2,5", "nan", "NaN", "1.2.3", "Wed, 99 Foo 2015"])
def test_retry_after_absent_or_junk_is_none(value):
    assert parse_retry_after(value) is None


def test_retry_after_http_date_is_relative_to_now():
    now = 1_445_412_470.0  # 10 s before Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == pytest.approx(10.0)


def test_retry_after_http_date_in_the_past_is_zero():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=2_000_000_000.0) == 0.0


def test_retry_after_http_date_far_ahead_is_capped():
    now = 1_000_000_000.0
    header = email.utils.formatdate(now + 3600, usegmt=True)
    assert parse_retry_after(header, now=now) == RETRY_AFTER_MAX


def test_retry_after_max_is_two_minutes():
    assert RETRY_AFTER_MAX == 120.0


@given(st.floats(min_value=0, max_value=RETRY_AFTER_MAX, allow_nan=False))
def test_retry_after_round_trips_any_fraction_in_range(seconds):
    assert parse_retry_after(repr(seconds)) == pytest.approx(seconds)


@given(st.text(max_size=40))
def test_retry_after_never_raises_and_stays_in_range(text):
    value = parse_retry_after(text, now=1_000_000_000.0)
    assert value is None or 0.0 <= value <= RETRY_AFTER_MAX


# ---------------------------------------------------------------------------------------------------
# error bodies


@pytest.mark.parametrize(
    "body",
    [None, "", "text", b"bytes", [], [{"error": {"code": "X"}}], 42, {}, {"error": None}, {"error": "Forbidden"}, {"error": ["x"]}, {"error": {}}],
)
def test_error_fields_of_odd_bodies_are_empty(body):
    assert error_fields(body) == ("", "", "")


def test_error_fields_of_a_graph_error():
    body = {
        "error": {
            "code": "Authorization_RequestDenied",
            "message": "Insufficient privileges to complete the operation.",
            "innerError": {"date": "2024-01-01T00:00:00", "request-id": "req-1", "client-request-id": "cli-1"},
        }
    }
    assert error_fields(body) == ("Authorization_RequestDenied", "Insufficient privileges to complete the operation.", "req-1")


def test_error_fields_accepts_lowercase_innererror():
    assert error_fields({"error": {"code": "X", "innererror": {"request-id": "r2"}}}) == ("X", "", "r2")


@pytest.mark.parametrize("inner", [None, [], "req", {"request-id": None}, {"requestId": "x"}])
def test_error_fields_without_a_usable_request_id(inner):
    assert error_fields({"error": {"code": "X", "message": "m", "innerError": inner}}) == ("X", "m", "")


def test_error_fields_turns_odd_types_into_text():
    assert error_fields({"error": {"code": 429, "message": None}}) == ("429", "", "")


# ---------------------------------------------------------------------------------------------------
# permission hints


@pytest.mark.parametrize(
    "path, expected",
    [
        (JOB_PATH, True),
        (RESTART_PATH, True),
        ("/servicePrincipals/%s/synchronization" % SP_ID, True),
        ("/servicePrincipals/%s/synchronization/jobs" % SP_ID, True),
        ("/servicePrincipals", False),
        ("/servicePrincipals/%s" % SP_ID, False),
        ("/synchronizationish", False),
    ],
)
def test_is_synchronization_path(path, expected):
    assert is_synchronization_path(path) is expected


@pytest.mark.parametrize("status", [401, 403])
def test_sync_write_hint_names_the_permission_and_owned_by(status):
    hint = permission_hint(status, "POST", RESTART_PATH, delegated=False)
    assert "Synchronization.ReadWrite.All" in hint
    assert "Application.ReadWrite.OwnedBy" in hint
    for role in ROLES:
        assert role not in hint


def test_sync_read_hint_offers_the_read_permission():
    hint = permission_hint(403, "GET", JOB_PATH, delegated=False)
    assert "Synchronization.Read.All" in hint
    assert "Synchronization.ReadWrite.All" in hint


def test_delegated_hint_adds_the_directory_roles():
    hint = permission_hint(401, "POST", RESTART_PATH, delegated=True)
    assert "Synchronization.ReadWrite.All" in hint
    for role in ROLES:
        assert role in hint


@pytest.mark.parametrize("path", ["/servicePrincipals", "/servicePrincipals/%s" % SP_ID])
def test_listing_service_principals_hint_names_application_read_all(path):
    hint = permission_hint(403, "GET", path, delegated=False)
    assert "Application.Read.All" in hint
    assert "Synchronization" not in hint


@pytest.mark.parametrize("status", [400, 404, 409, 429, 500, 503])
def test_no_hint_for_statuses_that_are_not_about_permissions(status):
    assert permission_hint(status, "POST", RESTART_PATH, delegated=True) is None


def test_no_hint_for_other_paths():
    assert permission_hint(403, "GET", "/me", delegated=False) is None


# ---------------------------------------------------------------------------------------------------
# describe_error


def test_401_unknown_error_on_a_sync_path_says_what_to_grant():
    text = describe_error(401, "UnknownError", "", "POST", RESTART_PATH)
    assert text.startswith("POST %s failed: HTTP 401 UnknownError" % RESTART_PATH)
    assert "Synchronization.ReadWrite.All" in text
    assert "Application.ReadWrite.OwnedBy" in text
    assert "Application Administrator" not in text


def test_401_for_a_delegated_token_names_the_roles():
    text = describe_error(401, "UnknownError", "", "POST", RESTART_PATH, delegated=True)
    for role in ROLES:
        assert role in text


def test_403_on_service_principals_names_application_read_all():
    text = describe_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", "GET", "/servicePrincipals")
    assert "HTTP 403 Authorization_RequestDenied: Insufficient privileges" in text
    assert "Application.Read.All" in text


def test_invalid_token_says_check_cloud_not_permissions():
    text = describe_error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.", "GET", JOB_PATH)
    assert "expired" in text
    assert "cloud" in text and "graph_endpoint" in text
    assert "Synchronization.ReadWrite.All" not in text


def test_404_hint_points_at_the_ids():
    text = describe_error(404, "Request_ResourceNotFound", "Resource not found.", "GET", JOB_PATH)
    assert "service_principal_id" in text
    assert "appId" in text
    assert "job_id" in text


def test_request_id_is_appended():
    assert describe_error(500, "InternalServerError", "boom", "GET", JOB_PATH, request_id="abc-123").endswith("[request-id abc-123]")


def test_only_the_first_line_of_the_message_is_kept_and_it_is_truncated():
    text = describe_error(400, "BadRequest", "first line\nsecond line", "GET", JOB_PATH)
    assert "first line" in text
    assert "second line" not in text
    long_text = describe_error(400, "BadRequest", "x" * 1000, "GET", JOB_PATH)
    assert "x" * 300 in long_text
    assert "x" * 301 not in long_text


def test_no_code_and_no_message():
    assert describe_error(502, "", "", "GET", "/servicePrincipals") == "GET /servicePrincipals failed: HTTP 502"

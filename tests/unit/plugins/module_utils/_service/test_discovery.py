# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for discovery: the job filter and the tenant/service principal scans over a fake SyncApi."""

from __future__ import annotations

import random
import threading
import time

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, GraphError
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import parse_job
from ansible_collections.entra.sync.plugins.module_utils._service.discovery import JobFilter, Scan, scan_service_principal, scan_tenant


def sp(index):
    return {"id": "00000000-0000-4000-8000-%012d" % index, "appId": "app-%d" % index, "displayName": "App %d" % index}


def raw_job(job_id, code="Active"):
    return {"id": job_id, "templateId": job_id.split(".")[0], "status": {"code": code}, "schedule": {"state": "Active"}}


def job(template_id, status_code):
    return parse_job({"id": "x.1", "templateId": template_id, "status": {"code": status_code}})


class FakeApi:
    def __init__(self, service_principals, jobs, errors=None, jitter=0.0, names=None, name_error=None):
        self.service_principals = service_principals
        self.jobs = jobs  # sp id -> [raw jobs]
        self.errors = errors or {}
        self.jitter = jitter
        self.names = names or {}
        self.name_error = name_error
        self.filters = []
        self.listed = []
        self.read = []
        self.lock = threading.Lock()

    def iter_service_principals(self, odata_filter=None):
        self.filters.append(odata_filter)
        yield from self.service_principals

    def list_jobs(self, service_principal_id):
        if self.jitter:
            time.sleep(random.uniform(0, self.jitter))
        with self.lock:
            self.listed.append(service_principal_id)
        if service_principal_id in self.errors:
            raise self.errors[service_principal_id]
        return list(self.jobs.get(service_principal_id, []))

    def get_job(self, service_principal_id, job_id):
        self.read.append((service_principal_id, job_id))
        return next(raw for raw in self.jobs[service_principal_id] if raw["id"] == job_id)

    def service_principal(self, service_principal_id):
        if self.name_error is not None:
            raise self.name_error
        return self.names.get(service_principal_id)


# ---------------------------------------------------------------------------------------------------
# JobFilter


def test_empty_filter_matches_everything():
    job_filter = JobFilter.from_lists()
    assert job_filter.matches(job("scim", "Active"))
    assert job_filter.matches(parse_job({}))
    assert JobFilter.from_lists([], []) == job_filter
    assert JobFilter.from_lists(["", "  "], [" "]) == job_filter


def test_filters_are_case_insensitive_and_trimmed():
    job_filter = JobFilter.from_lists(["SCIM", " ad2aadprovisioning "], ["quarantine"])
    assert job_filter.matches(job("scim", "Quarantine"))
    assert job_filter.matches(job("AD2AADProvisioning", "QUARANTINE"))
    assert not job_filter.matches(job("aws", "Quarantine"))
    assert not job_filter.matches(job("scim", "Active"))


def test_template_filter_alone():
    job_filter = JobFilter.from_lists(template_ids=["Azure2Azure"])
    assert job_filter.matches(job("azure2azure", "Paused"))
    assert not job_filter.matches(job("scim", "Paused"))
    assert not job_filter.matches(parse_job({"status": {"code": "Paused"}}))


def test_status_filter_alone():
    job_filter = JobFilter.from_lists(status_codes=["Paused", "NotRun"])
    assert job_filter.matches(job("scim", "paused"))
    assert job_filter.matches(job("aws", "NotRun"))
    assert not job_filter.matches(job("scim", "Active"))
    assert not job_filter.matches(parse_job({"templateId": "scim"}))


def test_unknown_status_values_compare_as_given():
    assert JobFilter.from_lists(status_codes=["Degraded"]).matches(job("scim", "DEGRADED"))


# ---------------------------------------------------------------------------------------------------
# scan_tenant


def tenant(count=6):
    service_principals = [sp(index) for index in range(count)]
    jobs = {
        service_principals[0]["id"]: [raw_job("scim.%032x" % 1, "Quarantine"), raw_job("aws.%032x" % 2)],
        service_principals[2]["id"]: [raw_job("AD2AADProvisioning.%032x" % 3, "Quarantine")],
        service_principals[3]["id"]: [raw_job("scim.%032x" % 4)],
        service_principals[5]["id"]: [raw_job("scim.%032x" % 5, "Paused"), raw_job("scim.%032x" % 6, "Quarantine")],
    }
    return service_principals, jobs


def test_scan_tenant_reads_every_job_in_service_principal_order():
    service_principals, jobs = tenant()
    api = FakeApi(service_principals, jobs, jitter=0.004)
    scan = scan_tenant(api, JobFilter.from_lists(), concurrency=4)
    assert isinstance(scan, Scan)
    assert [found.job_id for found in scan.jobs] == [raw["id"] for sp_ in service_principals for raw in jobs.get(sp_["id"], [])]
    assert scan.errors == []
    assert scan.service_principals_read == 6
    assert sorted(api.listed) == sorted(sp_["id"] for sp_ in service_principals)
    first = scan.jobs[0]
    assert first.service_principal_id == service_principals[0]["id"]
    assert first.service_principal_name == "App 0"
    assert first.app_id == "app-0"


def test_scan_tenant_keeps_going_when_one_service_principal_fails():
    service_principals, jobs = tenant()
    failing = service_principals[2]["id"]
    denied = service_principals[5]["id"]
    errors = {failing: GraphError("GET /servicePrincipals/x/synchronization/jobs failed: HTTP 500", status=500), denied: AuthError("token expired")}
    api = FakeApi(service_principals, jobs, errors=errors, jitter=0.004)
    scan = scan_tenant(api, JobFilter.from_lists(), concurrency=3)
    assert scan.errors == [
        {"service_principal_id": failing, "message": str(errors[failing])},
        {"service_principal_id": denied, "message": "token expired"},
    ]
    assert [found.job_id for found in scan.jobs] == ["scim.%032x" % 1, "aws.%032x" % 2, "scim.%032x" % 4]
    # Every service principal listed was attempted; the errors say which ones gave nothing.
    assert scan.service_principals_read == 6


def test_scan_tenant_applies_the_filter():
    service_principals, jobs = tenant()
    api = FakeApi(service_principals, jobs)
    scan = scan_tenant(api, JobFilter.from_lists(["scim"], ["quarantine"]), concurrency=2)
    assert [found.job_id for found in scan.jobs] == ["scim.%032x" % 1, "scim.%032x" % 6]
    assert scan.service_principals_read == 6


def test_scan_tenant_passes_the_service_principal_filter():
    api = FakeApi([], {})
    scan = scan_tenant(api, JobFilter.from_lists(), service_principal_filter="startswith(displayName,'HR')")
    assert api.filters == ["startswith(displayName,'HR')"]
    assert scan.jobs == [] and scan.errors == [] and scan.service_principals_read == 0


def test_scan_tenant_skips_entries_without_an_id():
    service_principals = [sp(1), {"displayName": "no id"}, {"id": None}, {"id": ""}, sp(2)]
    api = FakeApi(service_principals, {sp(2)["id"]: [raw_job("scim.%032x" % 9)]})
    scan = scan_tenant(api, JobFilter.from_lists(), concurrency=2)
    assert scan.service_principals_read == 2
    assert sorted(api.listed) == sorted([sp(1)["id"], sp(2)["id"]])
    assert [found.job_id for found in scan.jobs] == ["scim.%032x" % 9]


def test_scan_tenant_paging_failure_propagates():
    class BrokenPaging(FakeApi):
        def iter_service_principals(self, odata_filter=None):
            yield sp(1)
            raise GraphError("GET /servicePrincipals failed: HTTP 403", status=403)

    with pytest.raises(GraphError):
        scan_tenant(BrokenPaging([], {}), JobFilter.from_lists())


# ---------------------------------------------------------------------------------------------------
# scan_service_principal


def test_one_job_is_read_not_listed():
    owner = sp(7)
    job_id = "scim.%032x" % 7
    api = FakeApi([], {owner["id"]: [raw_job(job_id, "Quarantine"), raw_job("aws.%032x" % 8)]}, names={owner["id"]: owner})
    scan = scan_service_principal(api, owner["id"], JobFilter.from_lists(), job_id=job_id)
    assert api.read == [(owner["id"], job_id)]
    assert api.listed == []
    assert [found.job_id for found in scan.jobs] == [job_id]
    assert scan.jobs[0].service_principal_name == "App 7"
    assert scan.service_principals_read == 1


def test_all_jobs_of_one_service_principal_filtered():
    owner = sp(7)
    api = FakeApi([], {owner["id"]: [raw_job("scim.%032x" % 1, "Quarantine"), raw_job("aws.%032x" % 2, "Quarantine")]})
    scan = scan_service_principal(api, owner["id"], JobFilter.from_lists(["AWS"]))
    assert [found.job_id for found in scan.jobs] == ["aws.%032x" % 2]


@pytest.mark.parametrize("names, name_error", [({}, None), ({}, GraphError("HTTP 403 Application.Read.All", status=403))])
def test_the_name_is_a_courtesy(names, name_error):
    owner = sp(7)
    api = FakeApi([], {owner["id"]: [raw_job("scim.%032x" % 1)]}, names=names, name_error=name_error)
    scan = scan_service_principal(api, owner["id"], JobFilter.from_lists())
    assert scan.jobs[0].service_principal_id == owner["id"]
    assert scan.jobs[0].service_principal_name is None


def test_a_job_read_error_propagates():
    owner = sp(7)
    api = FakeApi([], {owner["id"]: []}, errors={owner["id"]: GraphError("HTTP 404", status=404)})
    with pytest.raises(GraphError):
        scan_service_principal(api, owner["id"], JobFilter.from_lists())

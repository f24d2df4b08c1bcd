# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding jobs: one job, one service principal's jobs, or every job in the tenant, with filters."""

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ansible_collections.entra.sync.plugins.module_utils._exceptions import EntraSyncError, GraphError
from ansible_collections.entra.sync.plugins.module_utils._graph.batch import BATCH_MAX
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import parse_job


def _folded(values):
    """The non-blank values, stripped and lowercased, as a frozenset."""
    return frozenset(str(value).strip().lower() for value in values or [] if value is not None and str(value).strip())


def _field(job, name):
    return (job.get(name) if isinstance(job, Mapping) else getattr(job, name, None)) or ""


@dataclass(frozen=True)
class JobFilter:
    """The one job filter: template and status, compared case-insensitively; empty means everything.

    sync_job_info and sync_job_restart filter Job objects with it, the inventory plugin its job dicts.
    """

    template_ids: frozenset = frozenset()
    status_codes: frozenset = frozenset()

    @classmethod
    def from_lists(cls, template_ids=None, status_codes=None):
        return cls(_folded(template_ids), _folded(status_codes))

    def matches(self, job):
        """Whether a Job (or a job dict with template_id and status_code) passes."""
        if self.template_ids and _field(job, "template_id").lower() not in self.template_ids:
            return False
        return not self.status_codes or _field(job, "status_code").lower() in self.status_codes

    def select(self, jobs):
        """The jobs that pass, order kept."""
        return [job for job in jobs if self.matches(job)]


@dataclass
class Scan:
    jobs: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    service_principals_read: int = 0


def _service_principal_or_id(api, service_principal_id):
    # The name and appId are a courtesy: a token without Application.Read.All still gets the jobs.
    try:
        return api.service_principal(service_principal_id) or {"id": service_principal_id}
    except GraphError:
        return {"id": service_principal_id}


def scan_service_principal(api, service_principal_id, job_filter, job_id=None):
    """One job (job_id) or every job of one service principal. Graph errors propagate: there is nothing else to return."""
    if job_id:
        raw_jobs = [api.get_job(service_principal_id, job_id)]
    else:
        raw_jobs = api.list_jobs(service_principal_id)
    service_principal = _service_principal_or_id(api, service_principal_id)
    jobs = [parse_job(raw, service_principal) for raw in raw_jobs]
    return Scan(jobs=[job for job in jobs if job_filter.matches(job)], service_principals_read=1)


def scan_tenant(api, job_filter, service_principal_filter=None, concurrency=10):
    """Every job in the tenant: page the service principals and list each one's jobs while the next pages arrive.

    A failure on one service principal is recorded in errors and the others are still read.
    """
    def list_jobs(service_principal):
        try:
            return [parse_job(raw, service_principal) for raw in api.list_jobs(service_principal["id"])], None
        except EntraSyncError as exc:
            return [], {"service_principal_id": service_principal.get("id"), "message": str(exc)}

    if getattr(api, "batch_reads", False):
        return _scan_tenant_batched(api, job_filter, service_principal_filter, concurrency)
    scan = Scan()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(list_jobs, sp) for sp in api.iter_service_principals(service_principal_filter) if sp.get("id")]
        for future in futures:
            jobs, error = future.result()
            scan.service_principals_read += 1
            scan.jobs.extend(job for job in jobs if job_filter.matches(job))
            if error:
                scan.errors.append(error)
    return scan


def _scan_tenant_batched(api, job_filter, service_principal_filter, concurrency):
    """scan_tenant with the job lists read 20 service principals per $batch envelope, `concurrency` envelopes in flight."""
    def list_group(group):
        answers = api.list_jobs_batch([sp["id"] for sp in group])
        return [(sp, raw_jobs, error) for sp, (raw_jobs, error) in zip(group, answers, strict=True)]

    scan = Scan()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures, group = [], []
        for sp in api.iter_service_principals(service_principal_filter):
            if not sp.get("id"):
                continue
            group.append(sp)
            if len(group) == BATCH_MAX:
                futures.append(pool.submit(list_group, group))
                group = []
        if group:
            futures.append(pool.submit(list_group, group))
        for future in futures:
            for sp, raw_jobs, error in future.result():
                scan.service_principals_read += 1
                if error is not None:
                    scan.errors.append({"service_principal_id": sp.get("id"), "message": str(error)})
                    continue
                scan.jobs.extend(job for job in (parse_job(raw, sp) for raw in raw_jobs) if job_filter.matches(job))
    return scan


def scan_jobs(api, targets, job_filter, concurrency=10):
    """Named jobs (JobTarget list), read together (in $batch when the api batches reads); a job that cannot be read is
    recorded in errors."""
    answers = api.get_jobs_many([(target.service_principal_id, target.job_id) for target in targets], concurrency)
    scan = Scan()
    for target, (raw, error) in zip(targets, answers, strict=True):
        if error is not None:
            scan.errors.append({"service_principal_id": target.service_principal_id, "job_id": target.job_id, "message": str(error)})
            continue
        job = parse_job(raw, {"id": target.service_principal_id})
        if job_filter.matches(job):
            scan.jobs.append(job)
    scan.service_principals_read = len({target.service_principal_id for target in targets})
    return scan

"""Render a Job as the JSON Microsoft Graph returns (reference notes section 1.7), quirks included.

Everything not kept in the Job (dates, counters, activity ids) is derived from the job's seed, so the
same job renders the same way every time and nothing large is stored per job.
"""

import random
import time
import uuid

from .state import DISABLED_INTERVAL

NEVER = "0001-01-01T00:00:00Z"
# The generated fleet's "history" is anchored here so output is identical for a seed.
_EPOCH = 1735689600  # 2025-01-01T00:00:00Z

_ENTRY_KEYS = {
    "AD2AADProvisioning": ("user to User", "group to Group"),
    "AD2AADPasswordHash": ("user to User",),
    "AAD2ADExchangeHybridWriteback": ("user to User", "group to Group"),
    "Azure2Azure": ("User to User",),
}


def _iso(epoch, rng):
    # Microsoft writes 0 to 7 fractional digits; keep that variety for parsers.
    digits = rng.choice((0, 3, 6, 7, 7))
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))
    if not digits:
        return base + "Z"
    return base + "." + str(rng.randrange(10 ** digits)).rjust(digits, "0") + "Z"


def _error(pair):
    if pair is None:
        return None
    # (code, message) or (code, message, tenant_actionable); credential and consent errors are the tenant's to fix.
    return {"code": pair[0], "message": pair[1], "tenantActionable": pair[2] if len(pair) > 2 else True}


def _execution(rng, began, state, error, scale, activity=True):
    ended = began + rng.randint(5, 900)
    escrowed = 0 if state == "Succeeded" else rng.randint(1, 60) * scale
    return {
        "activityIdentifier": str(uuid.UUID(int=rng.getrandbits(128), version=4)) if activity else None,
        "countEntitled": rng.randint(0, 500) * scale,
        "countEntitledForProvisioning": rng.randint(0, 500) * scale,
        "countEscrowed": escrowed,
        "countEscrowedRaw": escrowed,
        "countExported": rng.randint(0, 50) * scale,
        "countExports": rng.randint(0, 50),
        "countImported": rng.randint(0, 500) * scale,
        "countImportedDeltas": rng.randint(0, 40),
        "countImportedReferenceDeltas": rng.randint(0, 10),
        "state": state,
        "error": _error(error),
        "timeBegan": _iso(began, rng),
        "timeEnded": _iso(ended, rng),
    }


def _settings(job, tenant_id):
    if job.template_id.startswith("AD2AAD") or job.template_id == "AAD2ADExchangeHybridWriteback":
        domain = '{"DomainFQDN":"contoso.com","DomainNetBios":"CONTOSO","ForestFQDN":"contoso.com","ForestNetBios":"CONTOSO"}'
        return [{"name": "Domain", "value": domain}, {"name": "QuarantineTooManyDeletesThreshold", "value": "500"}]
    return [
        {"name": "AzureIngestionAttributeOptimization", "value": "False"},
        {"name": "LookaheadQueryEnabled", "value": "False"},
        {"name": "TenantId", "value": tenant_id},
    ]


def _real_iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + ".%06dZ" % int((epoch % 1) * 1e6)


def _quarantine(job, rng, now):
    if job.quarantine_reason is None:
        return None
    error = _error(job.quarantine_error)
    if job.quarantine_empty:
        return {"currentBegan": "", "nextAttempt": "", "reason": "", "seriesBegan": "",
                "seriesCount": job.quarantine_series, "error": error}
    series_began = now - rng.randint(86400, 20 * 86400)
    current_began = _iso(now - rng.randint(600, 86400), rng)
    next_attempt = _iso(now + rng.randint(600, 86400), rng)
    if job.series_began is not None:
        # A quarantine with a real start (the generated fleet, the admin API, a relapse): seriesBegan + 28 days is when
        # Microsoft disables the job. While quarantined, cycles slow to about once a day.
        began = job.quarantine_began or job.series_began
        days = 1 + int(max(0.0, time.time() - began) // 86400)
        return {
            "currentBegan": _real_iso(began),
            "nextAttempt": _real_iso(began + days * 86400),
            "reason": job.quarantine_reason,
            "seriesBegan": _real_iso(job.series_began),
            "seriesCount": job.quarantine_series,
            "error": error,
        }
    return {
        "currentBegan": current_began,
        "nextAttempt": next_attempt,
        "reason": job.quarantine_reason,
        "seriesBegan": _iso(series_began, rng),
        "seriesCount": job.quarantine_series,
        "error": error,
    }


def render_job(job, tenant_id):
    rng = random.Random(job.seed)
    now = _EPOCH + rng.randint(0, 180 * 86400)
    scale = rng.choice((1, 1, 3, 20))
    never_ran = job.code in ("NotConfigured", "NotRun") or job.last_state is None and job.last_time is None
    if job.last_time is not None and job.last_state is None:
        # A cycle the sandbox started on restart: in progress, nothing to report yet.
        last = None
    elif job.last_state is None or job.code == "NotConfigured":
        last = None
    else:
        last = _execution(rng, now - rng.randint(60, 3600), job.last_state, job.last_error, scale)
    if never_ran:
        last_ok = None
        steady_first = steady_last = NEVER
    else:
        ok_began = now - rng.randint(3600, 30 * 86400)
        last_ok = _execution(rng, ok_began, "Succeeded", None, scale, activity=rng.random() < 0.5)
        if rng.random() < 0.3:
            last_ok["timeBegan"] = NEVER  # as in Microsoft's own sample
        steady_first = _iso(ok_began - rng.randint(86400, 300 * 86400), rng)
        steady_last = _iso(ok_began, rng)
    entries = [{"key": key, "value": rng.randint(1, 5000) * scale} for key in _ENTRY_KEYS.get(job.template_id, ("User to User",))]
    rng.random()  # escrowsPruned was drawn here: the draw stays, so that every seed renders the rest as before
    status = {
        "code": job.code,
        "countSuccessiveCompleteFailures": job.failures,
        # True only for a job the service paused after its initial cycle hit the error threshold.
        "escrowsPruned": job.escrows_pruned,
        "lastExecution": last,
        "lastSuccessfulExecution": last_ok,
        "lastSuccessfulExecutionWithExports": last_ok if last_ok and rng.random() < 0.5 else None,
        "progress": [],
        "quarantine": _quarantine(job, rng, now),
        "steadyStateFirstAchievedTime": steady_first,
        "steadyStateLastAchievedTime": steady_last,
        "synchronizedEntryCountByType": [] if never_ran else entries,
        "troubleshootingUrl": None if job.troubleshooting_null else "",
    }
    if job.last_time is not None and job.last_state is None:
        status["progress"] = [{"completedUnits": 0, "totalUnits": 1, "units": "Users",
                               "progressObservationDateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(job.last_time))}]
    disabled = job.schedule_state == "Disabled"
    return {
        "id": job.job_id,
        "templateId": job.template_id,
        "schedule": {
            "expiration": None,
            "interval": DISABLED_INTERVAL if disabled else job.interval,
            "state": job.schedule_state,
        },
        "status": status,
        "synchronizationJobSettings": _settings(job, tenant_id),
    }

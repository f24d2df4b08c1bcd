"""The admin API under /_sandbox/ (JSON, no auth, loopback only): log, counters, jobs, fleet, faults."""

import json
import time

from aiohttp import web

from .appkeys import SANDBOX_KEY
from .job_json import render_job

ROUTES = web.RouteTableDef()  # each handler has its route above it; server.py adds the table to the app


def _bad_request(message):
    return web.json_response({"error": message}, status=400)


async def _json(request):
    raw = await request.read()
    if not raw:
        return {}
    payload = json.loads(raw)
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    return payload


def _job_summary(tenant, sp, job):
    return {
        "tenant_id": tenant.tenant_id,
        "service_principal_id": sp.sp_id,
        "app_id": sp.app_id,
        "display_name": sp.display_name,
        "job_id": job.job_id,
        "template_id": job.template_id,
        "status_code": job.code,
        "schedule_state": job.schedule_state,
        "quarantine_reason": job.quarantine_reason,
        "quarantine_error": dict(zip(("code", "message", "tenant_actionable"), job.quarantine_error, strict=False)) if job.quarantine_error else None,
        "series_began": job.series_began,
        "escrows_pruned": job.escrows_pruned,
        "last_execution_state": job.last_state,
        "held_deletes": job.held_deletes,
        "relapse": job.relapse,
        "restarts": job.restarts,
        "starts": job.starts,
        "pauses": job.pauses,
        "last_reset_scope": job.reset_scopes[-1] if job.reset_scopes else None,
        "reset_scopes": list(job.reset_scopes),
        "owned_by_ownedby": sp.owned,
    }


@ROUTES.get("/_sandbox/health")
async def health(request):
    sandbox = request.app[SANDBOX_KEY]
    return web.json_response({"status": "ok", "uptime": time.time() - sandbox.started, "base_url": sandbox.base_url,
                              "log_entries": len(sandbox.log)})


@ROUTES.get("/_sandbox/config")
async def config(request):
    return web.json_response(request.app[SANDBOX_KEY].config())


@ROUTES.get("/_sandbox/log")
async def get_log(request):
    sandbox = request.app[SANDBOX_KEY]
    try:
        since = int(request.query.get("since", 0))
        limit = int(request.query["limit"]) if "limit" in request.query else None
    except ValueError:
        return _bad_request("since and limit are integers")
    entries = sandbox.log.since(since, limit, request.query.get("kind"))
    return web.json_response({"last_seq": sandbox.log.last_seq, "entries": entries})


@ROUTES.post("/_sandbox/log/clear")
async def clear_log(request):
    request.app[SANDBOX_KEY].log.clear()
    return web.json_response({"cleared": True})


@ROUTES.get("/_sandbox/counters")
async def counters(request):
    return web.json_response(request.app[SANDBOX_KEY].counters_report())


@ROUTES.post("/_sandbox/counters/reset")
async def reset_counters(request):
    request.app[SANDBOX_KEY].reset_counters()
    return web.json_response({"reset": True})


@ROUTES.get("/_sandbox/jobs")
async def list_jobs(request):
    sandbox = request.app[SANDBOX_KEY]
    wanted_tenant = request.query.get("tenant_id")
    jobs = [_job_summary(t, sp, job) for t, sp, job in sandbox.fleet.all_jobs() if not wanted_tenant or t.tenant_id == wanted_tenant]
    return web.json_response({"jobs": jobs})


def _find(request):
    sandbox = request.app[SANDBOX_KEY]
    tenant, sp, job = sandbox.fleet.find_job(request.match_info["sp"], request.match_info["job"])
    if job is None:
        raise web.HTTPNotFound(text=json.dumps({"error": "no such service principal/job"}), content_type="application/json")
    return tenant, sp, job


@ROUTES.get("/_sandbox/jobs/{sp}/{job}")
async def get_job(request):
    tenant, sp, job = _find(request)
    return web.json_response({"summary": _job_summary(tenant, sp, job), "graph": render_job(job, tenant.tenant_id)})


@ROUTES.put("/_sandbox/jobs/{sp}/{job}")
async def put_job(request):
    tenant, sp, job = _find(request)
    try:
        fields = await _json(request)
        allowed = {"status_code", "quarantine_reason", "relapse", "last_execution_state", "schedule_state", "held_deletes",
                   "escrows_pruned", "quarantine_days", "quarantine_error"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError("unknown fields %s; allowed: %s" % (sorted(unknown), sorted(allowed)))
        held = fields.pop("held_deletes", None)
        job.set_fields(**fields)
        if held is not None:
            job.held_deletes = int(held)
    except (ValueError, TypeError) as exc:
        return _bad_request(str(exc))
    return web.json_response(_job_summary(tenant, sp, job))


@ROUTES.post("/_sandbox/fleet")
async def put_fleet(request):
    sandbox = request.app[SANDBOX_KEY]
    try:
        sandbox.replace_fleet(await _json(request))
    except (ValueError, TypeError) as exc:
        return _bad_request(str(exc))
    return web.json_response({"tenants": [sandbox.fleet.tenants[tid].summary() for tid in sandbox.tenant_ids],
                              "fleet": sandbox.fleet_params})


@ROUTES.get("/_sandbox/faults")
async def get_faults(request):
    return web.json_response(request.app[SANDBOX_KEY].faults.profile())


@ROUTES.put("/_sandbox/faults")
async def put_faults(request):
    sandbox = request.app[SANDBOX_KEY]
    try:
        sandbox.faults.configure(await _json(request))
    except (ValueError, TypeError, KeyError) as exc:
        return _bad_request("bad fault profile: %s" % exc)
    return web.json_response(sandbox.faults.profile())


@ROUTES.get("/_sandbox/throttle")
async def get_throttle(request):
    return web.json_response(request.app[SANDBOX_KEY].throttle.config)


@ROUTES.put("/_sandbox/throttle")
async def put_throttle(request):
    sandbox = request.app[SANDBOX_KEY]
    try:
        sandbox.throttle.configure(await _json(request))
    except (ValueError, TypeError) as exc:
        return _bad_request("bad throttle config: %s" % exc)
    return web.json_response(sandbox.throttle.config)


@ROUTES.get("/_sandbox/token-lifetime")
async def get_token_lifetime(request):
    return web.json_response({"seconds": request.app[SANDBOX_KEY].issuer.lifetime})


@ROUTES.put("/_sandbox/token-lifetime")
async def put_token_lifetime(request):
    sandbox = request.app[SANDBOX_KEY]
    try:
        seconds = int((await _json(request))["seconds"])
        if seconds < 1:
            raise ValueError("seconds must be >= 1")
    except (ValueError, TypeError, KeyError) as exc:
        return _bad_request("expected {\"seconds\": N}: %s" % exc)
    sandbox.issuer.lifetime = seconds
    sandbox.write_config()
    return web.json_response({"seconds": seconds})


@ROUTES.post("/_sandbox/workload-token")
async def workload_token(request):
    """Mint an external token for the `federated` app: {"expires_in": 3600, "subject": ..., "audience": ..., "issuer": ...}.

    What a kubelet (or GitHub Actions) writes to AZURE_FEDERATED_TOKEN_FILE; a negative expires_in gives an expired one.
    """
    sandbox = request.app[SANDBOX_KEY]
    try:
        payload = await _json(request)
        expires_in = int(payload.get("expires_in", 3600))
    except (ValueError, TypeError) as exc:
        return _bad_request("expected {\"expires_in\": N, \"subject\", \"audience\", \"issuer\"}: %s" % exc)
    record = sandbox.federated_app.federated_credentials[0]
    token, claims = sandbox.workload_issuer.mint(payload.get("subject") or record["subject"],
                                                 payload.get("audience") or record["audiences"][0], expires_in, payload.get("issuer"))
    sandbox.workload_tokens.append(token)
    return web.json_response({"token": token, "jti": claims["jti"], "exp": claims["exp"], "iat": claims["iat"]})


@ROUTES.get("/_sandbox/issued")
async def issued(request):
    """Every credential this run minted or received, for no-secret-in-output tests: access tokens issued (sign-in and
    managed identity), client assertions received at the token endpoint, workload tokens minted. Never cleared by reset."""
    sandbox = request.app[SANDBOX_KEY]
    return web.json_response({"access_tokens": list(sandbox.issuer.issued), "assertions": list(sandbox.assertions_seen),
                              "workload_tokens": list(sandbox.workload_tokens)})


@ROUTES.post("/_sandbox/reset")
async def reset(request):
    """Back to a known state in one call: fleet (optional spec), log, counters, faults, throttle, token lifetime."""
    sandbox = request.app[SANDBOX_KEY]
    try:
        payload = await _json(request)
        sandbox.replace_fleet(payload.get("fleet") or {"seed": sandbox.seed, "service_principals": payload.get("service_principals", 300)})
        sandbox.faults.configure(payload.get("faults", sandbox.initial_fault_profile))
        sandbox.throttle.configure(payload.get("throttle", {}))
    except (ValueError, TypeError, KeyError) as exc:
        return _bad_request(str(exc))
    sandbox.issuer.lifetime = int(payload.get("token_lifetime", sandbox.issuer.lifetime))
    sandbox.log.clear()
    sandbox.reset_counters()
    return web.json_response({"reset": True, "fleet": sandbox.fleet_params})

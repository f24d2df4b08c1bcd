"""Admin API for the self-heal tests: the error a job's quarantine carries, and whether the tenant must act on it.

PUT /_sandbox/jobs/{sp}/{job}/quarantine-error {"code", "message", "tenant_actionable"} sets it now (when the job is
quarantined) and for a relapse after a restart (the `relapse` flag), so a test can make a quarantine a restart can fix
(tenant_actionable false) or one it cannot (true, as for expired credentials).
"""

import json

from aiohttp import web

from .appkeys import SANDBOX_KEY

ROUTES = web.RouteTableDef()  # each handler has its route above it; server.py adds the table to the app


@ROUTES.put("/_sandbox/jobs/{sp}/{job}/quarantine-error")
async def put_quarantine_error(request):
    sandbox = request.app[SANDBOX_KEY]
    _tenant, _sp, job = sandbox.fleet.find_job(request.match_info["sp"], request.match_info["job"])
    if job is None:
        return web.json_response({"error": "no such service principal/job"}, status=404)
    try:
        payload = json.loads(await request.read() or b"{}")
        error = (str(payload["code"]), str(payload.get("message") or payload["code"]), bool(payload.get("tenant_actionable", False)))
    except (ValueError, TypeError, KeyError) as exc:
        return web.json_response({"error": "expected {\"code\", \"message\", \"tenant_actionable\"}: %s" % exc}, status=400)
    job.quarantine_error = error
    job.relapse_error = error
    return web.json_response({"code": error[0], "message": error[1], "tenant_actionable": error[2]})

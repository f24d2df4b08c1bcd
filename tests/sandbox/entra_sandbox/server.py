"""The HTTPS server: one port for sign-in, Graph and the admin API."""

import asyncio
import json
import uuid

from aiohttp import web

from . import admin, admin_heal, delegated, github_oidc, signin
from .appkeys import GRAPH_KEY, SANDBOX_KEY
from .batch import run_batch
from .errors import error_body
from .graph_api import UNAUTHENTICATED, GraphCall, GraphError, GraphService, logged_headers
from .identity import TokenRejected

_JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"


def _is_batch(raw_path):
    return raw_path.lower() in ("/v1.0/$batch", "/v1.0/%24batch")


async def graph_handler(request):
    sandbox = request.app[SANDBOX_KEY]
    service = request.app[GRAPH_KEY]
    request_id = str(uuid.uuid4())
    client_request_id = request.headers.get("client-request-id") or request_id
    raw_path = request.rel_url.raw_path
    body = await request.read()
    call = GraphCall(method=request.method, path=raw_path, query=dict(request.query), query_string=request.query_string,
                     body=body, request_id=request_id, client_request_id=client_request_id, headers=logged_headers(request.headers))
    kind = "batch" if _is_batch(raw_path) else "graph"
    delay = sandbox.faults.delay()
    if delay:
        await asyncio.sleep(delay)
    try:
        principal = sandbox.issuer.validate(request.headers.get("Authorization"), sandbox.fleet.tenants)
    except TokenRejected as exc:
        sandbox.record(kind, call.method, raw_path, call.query_string, 401, request_id=request_id, headers=call.headers)
        payload = error_body("InvalidAuthenticationToken", str(exc), request_id, client_request_id)
        return _respond(401, payload, {"WWW-Authenticate": UNAUTHENTICATED}, request_id, client_request_id)
    if kind == "batch":
        if call.method != "POST":
            result = service.error_result(_method_error(), call)
        else:
            result = service.with_faults(call, lambda: run_batch(service, call, principal))
        logged_body = None
    else:
        result = service.execute(call, principal)
        logged_body = call.loggable_body()
    sandbox.record(kind, call.method, raw_path, call.query_string, result.status, principal.tenant_id, principal.app_id,
                   logged_body, result.fault, request_id, call.headers)
    if result.drop:
        # Close the TCP connection without an answer: the client sees a reset / lost response.
        # aiohttp then fails to write the placeholder response and drops it quietly.
        request.transport.abort()
        return web.Response(status=500)
    return _respond(result.status, result.body, result.headers, request_id, client_request_id)


def _method_error():
    return GraphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.", {"Allow": "POST"})


def _respond(status, body, headers, request_id, client_request_id):
    headers = dict(headers)
    headers["request-id"] = request_id
    headers["client-request-id"] = client_request_id
    headers["x-ms-ags-diagnostic"] = '{"ServerInfo":{"DataCenter":"Sandbox","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"sandbox"}}'
    if body is None:
        return web.Response(status=status, headers=headers)
    if isinstance(body, bytes):
        return web.Response(status=status, body=body, headers=headers, content_type="application/json")
    headers["Content-Type"] = _JSON_TYPE
    return web.Response(status=status, text=json.dumps(body), headers=headers)


async def not_found(request):
    return web.json_response({"error": {"code": "NotFound", "message": "No sandbox route for %s" % request.path}}, status=404)


def build_app(sandbox):
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[SANDBOX_KEY] = sandbox
    app[GRAPH_KEY] = GraphService(sandbox)
    app[github_oidc.GITHUB_OIDC_KEY] = github_oidc.GithubOidcService()
    app.add_routes(admin.ROUTES)
    app.add_routes(admin_heal.ROUTES)
    app.router.add_route("*", "/v1.0/{tail:.*}", graph_handler)
    for module in (signin, github_oidc, delegated):
        app.add_routes(module.ROUTES)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


async def start(sandbox, ssl_context, host="127.0.0.1", port=0):
    """Start serving; return the runner. Sets sandbox.base_url from the bound port."""
    runner = web.AppRunner(build_app(sandbox), access_log=None, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context, backlog=1024)
    await site.start()
    bound_port = runner.addresses[0][1]
    shown_host = "[%s]" % host if ":" in host else host
    sandbox.base_url = "https://%s:%d" % (shown_host, bound_port)
    return runner

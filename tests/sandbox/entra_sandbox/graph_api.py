"""Microsoft Graph v1.0: service principals and synchronization jobs.

`execute()` serves one call, whether it came over HTTP or as a `$batch` item, so both get the same
faults, throttling, permissions and effects. It returns a GraphResult; server.py and batch.py turn
that into an HTTP response or a batch item.
"""

import base64
import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from . import credentials
from .delegated import sync_access_denied
from .errors import GraphError, error_body, format_retry_after, throttled_body
from .identity import APP_OWNEDBY, APP_READ, APP_READWRITE, SYNC_READ, SYNC_READWRITE
from .job_json import render_job
from .payload import action_parameters, without_annotations
from .state import ScopeError, parse_reset_scope

SP_PROPERTIES = ("id", "appId", "displayName", "accountEnabled", "appOwnerOrganizationId", "applicationTemplateId",
                 "servicePrincipalType", "signInAudience", "tags")
DEFAULT_PAGE = 100
MAX_PAGE = 999
JOB_ACTIONS = ("restart", "start", "pause", "validateCredentials")
_APPID_SEGMENT = re.compile(r"^servicePrincipals\(appId='([^']*)'\)$", re.IGNORECASE)
_FILTERS = (
    (re.compile(r"^\s*startswith\(\s*displayName\s*,\s*'((?:[^']|'')*)'\s*\)\s*$", re.IGNORECASE), "prefix", "displayName"),
    (re.compile(r"^\s*displayName\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE), "eq", "displayName"),
    (re.compile(r"^\s*appId\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE), "eq", "appId"),
    (re.compile(r"^\s*id\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE), "eq", "id"),
)
UNAUTHENTICATED = 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", ' \
                  'client_id="00000003-0000-0000-c000-000000000000"'
MALFORMED_BODY = b'{"@odata.context":"$metadata#servicePrincipals","value":[{"id":"3f0e5c1a-'


# Request headers the log keeps, to compare clients on the wire; never Authorization (a token).
LOGGED_HEADERS = ("accept", "content-type", "consistencylevel", "prefer", "if-match", "retry-attempt", "client-request-id",
                  "return-client-request-id")


def logged_headers(headers):
    """The LOGGED_HEADERS of a request (any case), lower-cased names."""
    present = {str(name).lower(): value for name, value in (headers or {}).items()}
    return {name: present[name] for name in LOGGED_HEADERS if name in present}


@dataclass
class GraphCall:
    method: str
    path: str            # raw (still percent-encoded) path, starting with /v1.0
    query: dict          # decoded query parameters
    query_string: str
    body: bytes
    request_id: str
    client_request_id: str
    in_batch: bool = False
    headers: dict = field(default_factory=dict)  # the request headers that shape Graph's answer (LOGGED_HEADERS)

    def loggable_body(self):
        """The body of a write request for the log (JSON if it parses); reads have none."""
        if self.method == "GET" or not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return self.body[:1000].decode(errors="replace")


@dataclass
class GraphResult:
    status: int
    body: object = None           # JSON-able, or bytes sent as they are
    headers: dict = field(default_factory=dict)
    drop: bool = False            # abort the connection instead of answering
    fault: str = None


RESTART_CRITERIA_TYPE = "microsoft.graph.synchronizationJobRestartCriteria"


def _not_found_segment(segment):
    return GraphError(400, "BadRequest", "Resource not found for the segment '%s'." % segment)


class GraphService:
    def __init__(self, sandbox):
        self.sandbox = sandbox

    # --- entry point ----------------------------------------------------------------------------

    def execute(self, call, principal):
        """One Graph call: faults, then throttling, then permissions and the effect."""
        return self.with_faults(call, lambda: self._throttled(call, principal))

    def with_faults(self, call, produce):
        """Apply the fault rule that fires for this call around `produce()` (which makes the real answer)."""
        rule = self.sandbox.faults.pick(call.method, unquote(call.path), call.in_batch)
        if rule is not None and rule.fault not in ("lost_response", "malformed"):
            return self._injected(rule, call)
        result = produce()
        if rule is not None and rule.fault == "lost_response":
            # The effect happened; only the answer is lost.
            result.drop = True
            result.fault = "lost_response"
        elif rule is not None:
            result = GraphResult(200, MALFORMED_BODY, fault="malformed")
        return result

    def _throttled(self, call, principal):
        wait = self.sandbox.throttle.check(principal.app_id, principal.tenant_id, call.method != "GET")
        if wait is not None:
            self.sandbox.counters["throttled"] += 1
            return GraphResult(429, throttled_body(call.request_id, call.client_request_id),
                               {"Retry-After": format_retry_after(wait)})
        try:
            status, body = self._dispatch(call, principal)
            return GraphResult(status, body)
        except GraphError as exc:
            return self.error_result(exc, call)

    @staticmethod
    def error_result(exc, call):
        return GraphResult(exc.status, error_body(exc.code, exc.message, call.request_id, call.client_request_id), dict(exc.headers))

    def _injected(self, rule, call):
        if rule.fault == "reset":
            return GraphResult(None, drop=True, fault="reset")
        if rule.fault == "token_expired":
            body = error_body("InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.",
                              call.request_id, call.client_request_id)
            return GraphResult(401, body, {"WWW-Authenticate": UNAUTHENTICATED}, fault="token_expired")
        label = self.sandbox.faults.label(rule)
        if rule.status == 429:
            return GraphResult(429, throttled_body(call.request_id, call.client_request_id),
                               {"Retry-After": format_retry_after(self.sandbox.faults.retry_after(rule))}, fault=label)
        if rule.status == 503:
            body = error_body("serviceNotAvailable", "The service is temporarily unavailable. Please retry later.",
                              call.request_id, call.client_request_id)
            return GraphResult(503, body, {"Retry-After": format_retry_after(self.sandbox.faults.retry_after(rule))}, fault=label)
        body = error_body("generalException", "An unexpected error occurred.", call.request_id, call.client_request_id)
        return GraphResult(500, body, fault=label)

    # --- routing --------------------------------------------------------------------------------

    def _dispatch(self, call, principal):
        segments = [unquote(part) for part in call.path.split("/")[2:]]
        if segments and segments[-1] == "":
            segments.pop()  # tolerate a trailing slash
        if not segments:
            raise GraphError(400, "BadRequest", "Invalid request.")
        head = segments[0]
        tenant = self.sandbox.fleet.tenants[principal.tenant_id]
        match = _APPID_SEGMENT.match(head)
        if match:
            key, rest = ("appId", match.group(1)), segments[1:]
        elif head.lower() == "serviceprincipals":
            if len(segments) == 1:
                self._require_method(call, "GET")
                return 200, self._list_service_principals(call, principal, tenant)
            key, rest = ("id", segments[1]), segments[2:]
        else:
            raise _not_found_segment(head)
        return self._service_principal_path(call, principal, tenant, key, rest)

    def _service_principal_path(self, call, principal, tenant, key, rest):
        index = tenant.by_app_id if key[0] == "appId" else tenant.by_id
        sp = index.get(key[1])
        if not rest:
            self._require_method(call, "GET")
            if not (principal.has(APP_READ, APP_READWRITE) or (sp is not None and sp.owned and principal.has(APP_OWNEDBY))):
                raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
            if sp is None:
                raise self._sp_not_found(key[1])
            return 200, self._select(call, sp.to_graph(tenant.tenant_id), "servicePrincipals/$entity")
        if rest[0].lower() != "synchronization":
            raise _not_found_segment(rest[0])
        if len(rest) == 2 and rest[1].lower() == "secrets":
            self._require_method(call, "GET", "PUT")
            self._check_access(principal, sp, key, call.method == "PUT")
            return credentials.secrets(call, sp, self.sandbox.base_url)
        if len(rest) < 2 or rest[1].lower() != "jobs" or len(rest) > 4:
            raise _not_found_segment(rest[-1] if len(rest) < 2 or rest[1].lower() == "jobs" else rest[1])
        write = len(rest) == 4
        self._require_method(call, "POST" if write else "GET")
        self._check_access(principal, sp, key, write)
        context = "%s/v1.0/$metadata#servicePrincipals('%s')/synchronization/jobs" % (self.sandbox.base_url, sp.sp_id)
        if len(rest) == 2:
            value = [render_job(job, tenant.tenant_id) for job in sp.jobs]
            return 200, {"@odata.context": context, "value": value}
        job = sp.job(rest[2])
        if job is None:
            raise GraphError(404, "itemNotFound", "The requested synchronization job '%s' was not found." % rest[2])
        if not write:
            return 200, dict({"@odata.context": context + "/$entity"}, **render_job(job, tenant.tenant_id))
        action = rest[3]
        if action not in JOB_ACTIONS:
            raise _not_found_segment(action)
        if action == "validateCredentials":
            return credentials.validate(call, sp)
        if action == "restart":
            job.restart(self._restart_scope(call.body), self.sandbox.relapse_delay, credentials.fixes_cause(sp, job))
        elif action == "start":
            job.start()
        else:
            job.pause()
        if action != "pause":
            credentials.after_cycle(sp, job)
        return 204, None

    @staticmethod
    def _require_method(call, *allowed):
        if call.method not in allowed:
            raise GraphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.",
                             {"Allow": ", ".join(allowed)})

    def _check_access(self, principal, sp, key, write):
        """The app's permission, a user's role or ownership, then the service principal itself (404)."""
        self._check_sync_permission(principal, sp, write)
        self._check_user_access(principal, sp)
        if sp is None:
            raise self._sp_not_found(key[1])

    @staticmethod
    def _check_sync_permission(principal, sp, write):
        wanted = (SYNC_READWRITE,) if write else (SYNC_READ, SYNC_READWRITE)
        if principal.has(*wanted):
            return
        if principal.has(APP_OWNEDBY) and sp is not None and sp.owned:
            return
        # What Graph really answers on synchronization paths for a missing permission (graph-facts.md).
        raise GraphError(401, "UnknownError", "")

    def _check_user_access(self, principal, sp):
        """A user token holding the scope also needs a role or ownership (delegated.py); Graph answers 403 otherwise."""
        if principal.user_id is None or sp is None:
            return
        owns = self.sandbox.delegated.owns(principal.tenant_id, principal.user_id, sp.sp_id)
        denied = sync_access_denied(principal.wids, owns, [job.template_id for job in sp.jobs])
        if denied:
            raise GraphError(403, "Authorization_RequestDenied", denied)

    @staticmethod
    def _sp_not_found(ident):
        return GraphError(404, "Request_ResourceNotFound",
                          "Resource '%s' does not exist or one of its queried reference-property objects are not present." % ident)

    @staticmethod
    def _restart_scope(body):
        """The resetScope string of a restart body; None for empty criteria (`{}`, `{"criteria": {}}`)."""
        payload = action_parameters(body, "restart", ("criteria",), "criteria")
        # Microsoft's docs do not make criteria required: a body without it restarts with empty criteria.
        criteria = payload.get("criteria")
        if criteria is None:
            return None
        if not isinstance(criteria, dict):
            raise GraphError(400, "BadRequest", "The parameter 'criteria' must be an object.")
        criteria = without_annotations(criteria, RESTART_CRITERIA_TYPE)
        extra = set(criteria) - {"resetScope"}
        if extra:
            raise GraphError(400, "BadRequest", "The property '%s' does not exist on type "
                             "'%s'." % (sorted(extra)[0], RESTART_CRITERIA_TYPE))
        scope = criteria.get("resetScope")
        if scope is None:
            return None
        try:
            parse_reset_scope(scope)
        except ScopeError as exc:
            raise GraphError(400, "BadRequest", str(exc)) from exc
        return scope

    # --- service principal listing ----------------------------------------------------------------

    def _list_service_principals(self, call, principal, tenant):
        if not principal.has(APP_READ, APP_READWRITE):
            raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        query = call.query
        for name in query:
            if name.startswith("$") and name not in ("$select", "$top", "$filter", "$skiptoken"):
                raise GraphError(400, "Request_UnsupportedQuery", "Unsupported query option '%s'." % name)
        top = self._page_size(query.get("$top"))
        items = tenant.service_principals
        if query.get("$filter"):
            items = self._filter(items, query["$filter"])
        offset = self._decode_skiptoken(query.get("$skiptoken"), tenant.tenant_id)
        page = items[offset:offset + top]
        select = self._parse_select(query.get("$select"))
        value = [self._project(sp.to_graph(tenant.tenant_id), select) for sp in page]
        body = {"@odata.context": self._context("servicePrincipals", select), "value": value}
        if offset + top < len(items):
            body["@odata.nextLink"] = self._next_link(query, self._encode_skiptoken(offset + top, tenant.tenant_id))
        return body

    @staticmethod
    def _page_size(raw):
        if raw is None:
            return DEFAULT_PAGE
        try:
            top = int(raw)
        except ValueError:
            top = 0
        if not 1 <= top <= MAX_PAGE:
            raise GraphError(400, "Request_BadRequest",
                             "Invalid page size specified: '%s'. Must be between 1 and %d inclusive." % (raw, MAX_PAGE))
        return top

    @staticmethod
    def _filter(items, expression):
        for pattern, operator, prop in _FILTERS:
            match = pattern.match(expression)
            if not match:
                continue
            wanted = match.group(1).replace("''", "'")
            attr = {"displayName": "display_name", "appId": "app_id", "id": "sp_id"}[prop]
            if operator == "prefix":
                wanted = wanted.lower()
                return [sp for sp in items if getattr(sp, attr).lower().startswith(wanted)]
            if prop == "displayName":
                wanted = wanted.lower()
                return [sp for sp in items if sp.display_name.lower() == wanted]
            return [sp for sp in items if getattr(sp, attr) == wanted]
        raise GraphError(400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for "
                         "resource 'ServicePrincipal': %s" % expression)

    @staticmethod
    def _parse_select(raw):
        if not raw:
            return None
        names = [name.strip() for name in raw.split(",") if name.strip()]
        for name in names:
            if name not in SP_PROPERTIES:
                raise GraphError(400, "Request_BadRequest",
                                 "Could not find a property named '%s' on type 'microsoft.graph.servicePrincipal'." % name)
        return names

    @staticmethod
    def _project(entity, select):
        if select is None:
            return entity
        return {name: entity[name] for name in select}

    def _select(self, call, entity, context):
        select = self._parse_select(call.query.get("$select"))
        body = {"@odata.context": self._context(context, select)}
        body.update(self._project(entity, select))
        return body

    def _context(self, what, select):
        suffix = "(%s)" % ",".join(select) if select else ""
        if what.endswith("/$entity"):
            return "%s/v1.0/$metadata#%s%s/$entity" % (self.sandbox.base_url, what[:-len("/$entity")], suffix)
        return "%s/v1.0/$metadata#%s%s" % (self.sandbox.base_url, what, suffix)

    def _next_link(self, query, token):
        params = [(name, query[name]) for name in ("$select", "$filter", "$top") if query.get(name)]
        params.append(("$skiptoken", token))
        encoded = "&".join("%s=%s" % (name, quote(value, safe=",()'=")) for name, value in params)
        return "%s/v1.0/servicePrincipals?%s" % (self.sandbox.base_url, encoded)

    @staticmethod
    def _encode_skiptoken(offset, tenant_id):
        raw = ("RFNwdAIAAQAA:%s:%d" % (tenant_id, offset)).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode_skiptoken(token, tenant_id):
        if not token:
            return 0
        try:
            raw = base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()).decode()
            _magic, owner, offset = raw.split(":")
            if owner != tenant_id:
                raise ValueError("other tenant")
            return int(offset)
        except ValueError as exc:
            raise GraphError(400, "Request_BadRequest", "Invalid skip token '%s'." % token[:20]) from exc

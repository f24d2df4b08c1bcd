"""Live-tenant mode: the tests in this folder run against a real Microsoft Entra tenant when ENTRA_SYNC_LIVE_* are set.

Every test takes the `live_tenant` fixture, which has two parameters:
  [graph]    the tenant named by ENTRA_SYNC_LIVE_* in the environment (marker `live`); skipped, with the reason, when
             they are not set; a half-set configuration fails instead, so that a typo is not mistaken for a pass.
  [sandbox]  the same ENTRA_SYNC_LIVE_* names pointed at the sandbox tenant, read by the same code: the live path runs
             in every `make test`, and the sandbox's request log and counters check what the real tenant cannot show.
Read-only by default (sign-in, listing, reading one job, a check-mode restart); the one real restart needs
ENTRA_SYNC_LIVE_ALLOW_RESTART=1 and a named job. docs/live-tenant.md says how to run it.
"""

import os
from dataclasses import dataclass, field

import pytest

PREFIX = "ENTRA_SYNC_LIVE_"
DOC = "docs/live-tenant.md"
REQUIRED = ("TENANT_ID", "CLIENT_ID")
KNOWN = REQUIRED + (
    "CLIENT_SECRET", "CERTIFICATE_PATH", "CERTIFICATE_PASSWORD", "SP_ID", "JOB_ID", "ALLOW_RESTART", "RESTART_IF",
    "SP_FILTER", "CLOUD", "GRAPH_ENDPOINT", "AUTHORITY_HOST", "CA_PATH",
)
# Every variable through which the modules (or MSAL) could pick up another connection: a live run sets the ones its
# configuration names and removes the others from the playbook's environment.
CONNECTION_ENV = (
    "AZURE_TENANT_ID", "AZURE_TENANT", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "ENTRA_SYNC_ACCESS_TOKEN", "AZURE_CLOUD_ENVIRONMENT",
    "ENTRA_SYNC_GRAPH_ENDPOINT", "AZURE_AUTHORITY_HOST", "ENTRA_SYNC_CA_PATH", "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "ENTRA_SANDBOX_ADMIN",
)
NOT_CONFIGURED = (
    "live tenant not configured: set %sTENANT_ID, %sCLIENT_ID and %sCLIENT_SECRET (or %sCERTIFICATE_PATH) to run against a "
    "real tenant, read-only (%s)" % (PREFIX, PREFIX, PREFIX, PREFIX, DOC)
)


class LiveConfigError(ValueError):
    """A half-set or contradictory ENTRA_SYNC_LIVE_* configuration; the message says what to fix."""


def _flag(value):
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class LiveTenant:
    """A tenant to run the live tests against, read from ENTRA_SYNC_LIVE_* (see docs/live-tenant.md)."""

    tenant_id: str
    client_id: str
    client_secret: str = field(default=None, repr=False)
    certificate_path: str = None
    certificate_password: str = field(default=None, repr=False)
    sp_id: str = None
    job_id: str = None
    allow_restart: bool = False
    restart_if: tuple = ("always",)
    sp_filter: str = None
    cloud: str = None
    graph_endpoint: str = None
    authority_host: str = None
    ca_path: str = None
    # The sandbox (a conftest Tenant) when these settings point at it: tests then also check its request log.
    observer: object = None

    @classmethod
    def from_env(cls, environ):
        """The LiveTenant that `environ` names, or None when it names none; LiveConfigError when it is half set."""
        values = {name: (environ.get(PREFIX + name) or "").strip() or None for name in KNOWN}
        unknown = sorted(name for name in environ if name.startswith(PREFIX) and name[len(PREFIX):] not in KNOWN)
        if unknown:
            raise LiveConfigError("unknown variable(s) %s: the known ones are %s%s (%s)"
                                  % (", ".join(unknown), PREFIX, (", " + PREFIX).join(KNOWN), DOC))
        if not any(values.values()):
            return None
        missing = [PREFIX + name for name in REQUIRED if not values[name]]
        if not values["CLIENT_SECRET"] and not values["CERTIFICATE_PATH"]:
            missing.append("%sCLIENT_SECRET or %sCERTIFICATE_PATH" % (PREFIX, PREFIX))
        if missing:
            raise LiveConfigError("the live tenant is half configured: set %s too (%s)" % (", ".join(missing), DOC))
        if values["CLIENT_SECRET"] and values["CERTIFICATE_PATH"]:
            raise LiveConfigError("set %sCLIENT_SECRET or %sCERTIFICATE_PATH, not both" % (PREFIX, PREFIX))
        if bool(values["SP_ID"]) != bool(values["JOB_ID"]):
            raise LiveConfigError("name the job with both %sSP_ID and %sJOB_ID" % (PREFIX, PREFIX))
        allow_restart = _flag(values["ALLOW_RESTART"])
        if allow_restart and not values["JOB_ID"]:
            raise LiveConfigError("%sALLOW_RESTART=1 restarts the job named by %sSP_ID and %sJOB_ID: set them" % (PREFIX, PREFIX, PREFIX))
        restart_if = tuple(part.strip() for part in (values["RESTART_IF"] or "always").split(",") if part.strip())
        return cls(
            tenant_id=values["TENANT_ID"], client_id=values["CLIENT_ID"], client_secret=values["CLIENT_SECRET"],
            certificate_path=values["CERTIFICATE_PATH"], certificate_password=values["CERTIFICATE_PASSWORD"],
            sp_id=values["SP_ID"], job_id=values["JOB_ID"], allow_restart=allow_restart, restart_if=restart_if,
            sp_filter=values["SP_FILTER"], cloud=values["CLOUD"], graph_endpoint=values["GRAPH_ENDPOINT"],
            authority_host=values["AUTHORITY_HOST"], ca_path=values["CA_PATH"],
        )

    @property
    def auth_method(self):
        return "client_secret" if self.client_secret else "certificate"

    @property
    def env(self):
        """The environment variables the modules read (their documented fallbacks), for the playbook runs."""
        pairs = {
            "AZURE_TENANT_ID": self.tenant_id, "AZURE_CLIENT_ID": self.client_id, "AZURE_CLIENT_SECRET": self.client_secret,
            "AZURE_CLIENT_CERTIFICATE_PATH": self.certificate_path, "AZURE_CLIENT_CERTIFICATE_PASSWORD": self.certificate_password,
            "AZURE_CLOUD_ENVIRONMENT": self.cloud, "ENTRA_SYNC_GRAPH_ENDPOINT": self.graph_endpoint,
            "AZURE_AUTHORITY_HOST": self.authority_host, "ENTRA_SYNC_CA_PATH": self.ca_path,
        }
        return {name: value for name, value in pairs.items() if value}

    @property
    def removed(self):
        """Overrides for the harness's Runner: every other connection variable of this process is dropped."""
        return {name: None for name in CONNECTION_ENV if name not in self.env}

    @property
    def named_job(self):
        return {"service_principal_id": self.sp_id, "job_id": self.job_id}

    def require_job(self):
        if not self.job_id:
            pytest.skip("no job named: set %sSP_ID and %sJOB_ID to a job of the live tenant (%s)" % (PREFIX, PREFIX, DOC))

    def require_restart(self):
        self.require_job()
        if not self.allow_restart:
            pytest.skip("restarts the named job of the live tenant: set %sALLOW_RESTART=1 to allow it (%s)" % (PREFIX, DOC))


def sandbox_live_environ(tenant, sp_id, job_id, app="full"):
    """ENTRA_SYNC_LIVE_* pointed at the sandbox: its first tenant, one of its apps, and the job (sp_id, job_id)."""
    sandbox = tenant.sandbox
    entry = sandbox.app(app)
    environ = {
        PREFIX + "TENANT_ID": sandbox.tenant_id,
        PREFIX + "CLIENT_ID": entry["client_id"],
        PREFIX + "SP_ID": sp_id,
        PREFIX + "JOB_ID": job_id,
        PREFIX + "ALLOW_RESTART": "1",
        PREFIX + "GRAPH_ENDPOINT": sandbox.config["graph_endpoint"],
        PREFIX + "AUTHORITY_HOST": sandbox.config["authority_host"],
        PREFIX + "CA_PATH": sandbox.ca_path,
    }
    if "certificate_path" in entry:
        environ[PREFIX + "CERTIFICATE_PATH"] = entry["certificate_path"]
    else:
        environ[PREFIX + "CLIENT_SECRET"] = entry["client_secret"]
    return environ


# The sandbox side: one service principal with a quarantined job (the named one) and an active one, and another
# service principal; nothing in the second tenant.
SANDBOX_LAYOUT = {1: ["Quarantine", "Active"], 2: ["Active"]}


def pytest_configure(config):
    config.addinivalue_line("markers", "live: runs against the live Entra tenant named by ENTRA_SYNC_LIVE_* (%s)" % DOC)
    config.addinivalue_line("markers", "sandbox_app(name): the sandbox app the [sandbox] variant signs in with (default full)")


@pytest.fixture
def live_sandbox_tenant(tenant):
    """A LiveTenant built from ENTRA_SYNC_LIVE_* values that point at the sandbox, with the sandbox as its observer."""
    def build(app="full"):
        ids = tenant.make_fleet(SANDBOX_LAYOUT)
        live = LiveTenant.from_env(sandbox_live_environ(tenant, *ids[(1, 0)], app=app))
        live.observer = tenant
        return live
    return build


@pytest.fixture(params=[pytest.param("graph", marks=pytest.mark.live), "sandbox"])
def live_tenant(request):
    """[graph]: the tenant ENTRA_SYNC_LIVE_* name (else skipped); [sandbox]: the same variables pointed at the sandbox."""
    if request.param == "sandbox":
        marker = request.node.get_closest_marker("sandbox_app")
        return request.getfixturevalue("live_sandbox_tenant")(app=marker.args[0] if marker else "full")
    try:
        live = LiveTenant.from_env(os.environ)
    except LiveConfigError as exc:
        pytest.fail(str(exc), pytrace=False)
    if live is None:
        pytest.skip(NOT_CONFIGURED)
    return live


@pytest.fixture
def live_config():
    """LiveTenant.from_env and its error, for the tests of the configuration itself."""
    return LiveTenant.from_env, LiveConfigError

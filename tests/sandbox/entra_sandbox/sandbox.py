"""The run's state in one place: tenants and fleet, apps, token issuer, throttle, faults, log, counters.

Also writes the state-dir files (sandbox.json, env.sh) that tell clients how to reach the sandbox.
"""

import json
import os
import random
import time
from collections import Counter

from . import credentials
from . import fleet as fleet_mod
from .certs import make_client_certificate
from .clouds import CLOUDS
from .delegated import DelegatedSignIn
from .delegated import config as delegated_config
from .faults import Faults
from .identity import FEDERATION_AUDIENCE, SYSTEM_IDENTITY_ROLES, USER_IDENTITY_ROLES, TokenIssuer, WorkloadIssuer, guid, make_federated_app, register_apps
from .requestlog import RequestLog
from .throttle import Throttle


class Sandbox:
    def __init__(self, state_dir, seed=42, tenants=1, service_principals=300, cloud="global", token_lifetime=3600,
                 fault_profile=None, latency_ms=0, relapse_delay=0.0):
        self.state_dir = os.path.abspath(state_dir)
        self.seed = seed
        self.cloud = CLOUDS[cloud]
        self.base_url = None  # known once the socket is bound
        rng = random.Random("apps:%s" % seed)
        self.client_cert = make_client_certificate(self.state_dir, "entra-sandbox-cert-app", make_pfx_password(rng))
        self.apps = register_apps(rng, self.client_cert)
        self.apps_by_client_id = {app.client_id: app for app in self.apps.values()}
        self.user_identity_client_id = guid(rng)
        self.system_identity_client_id = guid(rng)
        # Workload identity federation: an external issuer and the `federated` app that trusts one of its subjects.
        # Drawn after the other ids so adding it changed none of them.
        self.workload_issuer = WorkloadIssuer("https://workload-issuer.sandbox.invalid/%08x" % rng.getrandbits(32))
        self.federated_app = make_federated_app(rng, self.workload_issuer)
        self.apps_by_client_id[self.federated_app.client_id] = self.federated_app
        self.issuer = TokenIssuer(self.cloud, token_lifetime)
        self.tenant_ids = fleet_mod.tenant_ids(seed, tenants)
        self.fleet_params = {"seed": seed, "service_principals": service_principals}
        self.fleet = self._generate(seed, service_principals)
        profile = dict(fault_profile or {})
        if latency_ms and "latency_ms" not in profile:
            profile["latency_ms"] = latency_ms
        self.initial_fault_profile = profile
        self.faults = Faults(profile, default_seed=seed)
        # Seconds from a restart to the relapse of a job whose cause persists (its first cycle meeting the cause again).
        self.initial_relapse_delay = self.relapse_delay = float(relapse_delay)
        self.throttle = Throttle()
        self.log = RequestLog()
        self.batch_rng = random.Random("batch:%s" % seed)
        self.started = time.time()
        self.counters = Counter()
        self.token_requests = Counter()
        self.assertions_seen = []  # client assertions received at the token endpoint (GET /_sandbox/issued)
        self.workload_tokens = []  # external tokens minted by POST /_sandbox/workload-token
        self.delegated = DelegatedSignIn(self)  # users, device codes, refresh tokens (delegated.py)

    # --- fleet --------------------------------------------------------------------------------

    def _generate(self, seed, count):
        return fleet_mod.Fleet([fleet_mod.generate_tenant(seed, tid, count) for tid in self.tenant_ids])

    def replace_fleet(self, spec):
        """spec: {"seed", "service_principals"} for the generator, or {"tenants": {tenant_id: [sp spec, ...]}}
        / {"service_principals_list": [...]} (first tenant) for an explicit fleet."""
        if "tenants" in spec or "service_principals_list" in spec:
            explicit = dict(spec.get("tenants") or {})
            if "service_principals_list" in spec:
                explicit[self.tenant_ids[0]] = spec["service_principals_list"]
            unknown = set(explicit) - set(self.tenant_ids)
            if unknown:
                raise ValueError("unknown tenant ids %s; tenants are fixed for the run: %s" % (sorted(unknown), self.tenant_ids))
            tenants = [fleet_mod.build_explicit_tenant(tid, explicit.get(tid, []), self.seed) for tid in self.tenant_ids]
            self.fleet = fleet_mod.Fleet(tenants)
            self.fleet_params = {"explicit": True}
        else:
            seed = int(spec.get("seed", self.seed))
            count = int(spec.get("service_principals", self.fleet_params.get("service_principals", 300)))
            self.fleet = self._generate(seed, count)
            self.fleet_params = {"seed": seed, "service_principals": count}
        self.write_config()

    # --- bookkeeping --------------------------------------------------------------------------

    def record(self, kind, method, path, query, status, tenant_id=None, app_id=None, body=None, fault=None, request_id=None,
               headers=None):
        self.counters["requests_" + kind] += 1
        if status == 429:
            self.counters["status_429"] += 1
        self.log.add(method, path, query, status, kind, tenant_id, app_id, body, fault, request_id, headers)

    def counters_report(self):
        jobs = {}
        totals = Counter()
        for tenant, sp, job in self.fleet.all_jobs():
            if job.restarts or job.starts or job.pauses:
                jobs["%s/%s" % (sp.sp_id, job.job_id)] = {
                    "tenant_id": tenant.tenant_id, "restarts": job.restarts, "starts": job.starts, "pauses": job.pauses,
                    "starts_while_active": job.starts_while_active, "reset_scopes": list(job.reset_scopes),
                }
            totals["restarts"] += job.restarts
            totals["starts"] += job.starts
            totals["pauses"] += job.pauses
            totals["starts_while_active"] += job.starts_while_active
        totals["jobs_restarted_more_than_once"] = sum(1 for entry in jobs.values() if entry["restarts"] > 1)
        token_requests = {}
        for (tenant_id, client_id), count in self.token_requests.items():
            token_requests.setdefault(tenant_id, {})[client_id] = count
        requests = {key[len("requests_"):]: value for key, value in self.counters.items() if key.startswith("requests_")}
        return {
            "totals": dict(totals),
            "jobs": jobs,
            "requests": requests,
            "token_requests": token_requests,
            "status_429": self.counters["status_429"],
            "throttled": self.counters["throttled"],
            "faults": dict(self.faults.injected),
        }

    def reset_counters(self):
        self.counters.clear()
        self.token_requests.clear()
        self.faults.injected.clear()
        for _tenant, _sp, job in self.fleet.all_jobs():
            job.restarts = job.starts = job.pauses = job.starts_while_active = 0
            job.reset_scopes = []
        credentials.reset_counters(self.fleet)

    # --- files --------------------------------------------------------------------------------

    def env(self):
        full = self.apps["full"]
        return {
            "ENTRA_SYNC_GRAPH_ENDPOINT": self.base_url,
            "AZURE_AUTHORITY_HOST": self.base_url,
            "ENTRA_SYNC_CA_PATH": os.path.join(self.state_dir, "ca.pem"),
            "AZURE_TENANT_ID": self.tenant_ids[0],
            "AZURE_CLIENT_ID": full.client_id,
            "AZURE_CLIENT_SECRET": full.secret,
            "ENTRA_SANDBOX_ADMIN": self.base_url + "/_sandbox",
        }

    def config(self):
        apps = {}
        for name, app in self.apps.items():
            entry = {"client_id": app.client_id, "roles": list(app.roles)}
            if app.secret:
                entry["client_secret"] = app.secret
            if name == "cert":
                entry.update({
                    "certificate_path": self.client_cert.pem_path,
                    "pfx_path": self.client_cert.pfx_path,
                    "pfx_password": self.client_cert.pfx_password,
                    "thumbprint_sha1": self.client_cert.thumbprint_sha1,
                    "thumbprint_sha256": self.client_cert.thumbprint_sha256,
                })
            apps[name] = entry
        return {
            "base_url": self.base_url,
            "graph_endpoint": self.base_url,
            "graph_url": self.base_url + "/v1.0",
            "authority_host": self.base_url,
            "admin_url": self.base_url + "/_sandbox",
            "ca_path": os.path.join(self.state_dir, "ca.pem"),
            "cloud": self.cloud.name,
            "graph_resource": self.cloud.graph,
            "scope": self.cloud.scope,
            "seed": self.seed,
            "token_lifetime": self.issuer.lifetime,
            "tenants": [self.fleet.tenants[tid].summary() for tid in self.tenant_ids],
            "fleet": self.fleet_params,
            "apps": apps,
            "managed_identity": {
                "tenant_id": self.tenant_ids[0],
                "env": {"AZURE_POD_IDENTITY_AUTHORITY_HOST": self.base_url},
                "endpoint": self.base_url + "/metadata/identity/oauth2/token",
                "system_assigned": {"client_id": self.system_identity_client_id, "roles": list(SYSTEM_IDENTITY_ROLES)},
                "user_assigned": {"client_id": self.user_identity_client_id, "roles": list(USER_IDENTITY_ROLES)},
            },
            "workload_identity": {
                "client_id": self.federated_app.client_id,
                "roles": list(self.federated_app.roles),
                "issuer": self.workload_issuer.url,
                "subject": self.federated_app.federated_credentials[0]["subject"],
                "audience": FEDERATION_AUDIENCE,
                "mint": self.base_url + "/_sandbox/workload-token",
            },
            "delegated": delegated_config(self),
            "env": self.env(),
        }

    def write_config(self):
        if self.base_url is None:
            return
        _write_atomic(os.path.join(self.state_dir, "sandbox.json"), json.dumps(self.config(), indent=2) + "\n")

    def write_files(self):
        self.write_config()
        lines = ["export %s=%s" % (name, _shell_quote(value)) for name, value in self.env().items()]
        _write_atomic(os.path.join(self.state_dir, "env.sh"), "\n".join(lines) + "\n")


def make_pfx_password(rng):
    return "sandbox-%08x" % rng.getrandbits(32)


def _shell_quote(value):
    return "'" + str(value).replace("'", "'\"'\"'") + "'"


def _write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)

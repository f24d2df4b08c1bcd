"""Drive a sandbox from tests: start the CLI as a subprocess, read its config, call the admin API.

    with SandboxProcess(tmp_path, service_principals=50, latency_ms=5) as sandbox:
        subprocess.run(["ansible-playbook", ...], env={**os.environ, **sandbox.env})
        assert sandbox.admin.counters()["totals"]["restarts"] == 3

`requests` calls pass verify=<ca.pem> on every request, because REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE
(set on these machines) override Session.verify.
"""

import json
import os
import signal
import subprocess
import sys
import time

import requests

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stop_process(process, timeout, outputs=()):
    """SIGTERM a child process (killed if it is not gone after `timeout` seconds), then close the files it wrote to.
    Returns its exit status: None if it never started or had to be killed."""
    status = None
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            status = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    elif process is not None:
        status = process.returncode
    for handle in outputs:
        if handle is not None and not handle.closed:
            handle.close()
    return status


class AdminClient:
    """The /_sandbox/ admin API."""

    def __init__(self, admin_url, ca_path, timeout=60):
        self.url = admin_url.rstrip("/")
        self.ca_path = ca_path
        self.timeout = timeout

    def _call(self, method, path, payload=None, params=None):
        response = requests.request(method, self.url + path, json=payload, params=params, verify=self.ca_path, timeout=self.timeout)
        if response.status_code >= 400:
            raise RuntimeError("sandbox admin %s %s -> %d: %s" % (method, path, response.status_code, response.text))
        return response.json()

    def health(self):
        return self._call("GET", "/health")

    def log(self, since=0, kind=None, limit=None):
        params = {"since": since}
        if kind:
            params["kind"] = kind
        if limit is not None:
            params["limit"] = limit
        return self._call("GET", "/log", params=params)["entries"]

    def clear_log(self):
        return self._call("POST", "/log/clear")

    def counters(self):
        return self._call("GET", "/counters")

    def reset_counters(self):
        return self._call("POST", "/counters/reset")

    def jobs(self, tenant_id=None):
        return self._call("GET", "/jobs", params={"tenant_id": tenant_id} if tenant_id else None)["jobs"]

    def job(self, sp_id, job_id):
        return self._call("GET", "/jobs/%s/%s" % (sp_id, job_id))

    def set_job(self, sp_id, job_id, **fields):
        return self._call("PUT", "/jobs/%s/%s" % (sp_id, job_id), fields)

    def set_quarantine_error(self, sp_id, job_id, code, message=None, tenant_actionable=False):
        """The error the job's quarantine carries, now and after a relapse (admin_heal.py)."""
        return self._call("PUT", "/jobs/%s/%s/quarantine-error" % (sp_id, job_id),
                          {"code": code, "message": message or code, "tenant_actionable": tenant_actionable})

    def set_fleet(self, seed=None, service_principals=None, tenants=None, service_principals_list=None):
        """Generator: set_fleet(seed=7, service_principals=500). Explicit: set_fleet(service_principals_list=[...])
        (first tenant) or set_fleet(tenants={tenant_id: [...]})."""
        spec = {}
        if seed is not None:
            spec["seed"] = seed
        if service_principals is not None:
            spec["service_principals"] = service_principals
        if tenants is not None:
            spec["tenants"] = tenants
        if service_principals_list is not None:
            spec["service_principals_list"] = service_principals_list
        return self._call("POST", "/fleet", spec)

    def faults(self):
        return self._call("GET", "/faults")

    def set_faults(self, profile):
        return self._call("PUT", "/faults", profile)

    def throttle(self):
        return self._call("GET", "/throttle")

    def set_throttle(self, reads=None, writes=None, enabled=True):
        config = {"enabled": enabled}
        if reads is not None:
            config["reads"] = reads
        if writes is not None:
            config["writes"] = writes
        return self._call("PUT", "/throttle", config)

    def set_token_lifetime(self, seconds):
        return self._call("PUT", "/token-lifetime", {"seconds": seconds})

    def workload_token(self, expires_in=3600, subject=None, audience=None, issuer=None):
        """An external token the `federated` app trusts (write it to AZURE_FEDERATED_TOKEN_FILE): {"token", "jti", "exp", "iat"}."""
        payload = {"expires_in": expires_in}
        for name, value in (("subject", subject), ("audience", audience), ("issuer", issuer)):
            if value is not None:
                payload[name] = value
        return self._call("POST", "/workload-token", payload)

    def issued(self):
        """{"access_tokens", "assertions", "workload_tokens"}: every credential the sandbox minted or received this run."""
        return self._call("GET", "/issued")

    def reset(self, **payload):
        """Fleet (default: run seed, 300 SPs), log, counters, faults, throttle back to a known state."""
        return self._call("POST", "/reset", payload)

    # Delegated sign-in (delegated.py).
    def device_login(self, user_code=None, user="appadmin", action="approve"):
        """What a person does at the verification page: approve, decline (or expire) a pending device code as `user`."""
        return self._call("POST", "/device-login", {"user_code": user_code, "user": user, "action": action})

    def device_codes(self):
        """Every device code of the run: user_code, state, polls, slow_downs_sent, early_polls (never the device_code)."""
        return self._call("GET", "/device-codes")["codes"]

    def set_device_flow(self, **settings):
        """interval, expires_in (seconds) and slow_down (how many first polls of each code get slow_down)."""
        return self._call("PUT", "/device-flow", settings)

    def set_user(self, name, **payload):
        """owns=[service principal ids], revoke=True (refresh tokens issued so far stop working), tenant_id=..."""
        return self._call("POST", "/users/%s" % name, payload)


class SandboxProcess:
    """Run `python -m entra_sandbox serve` in a subprocess for the length of a `with` block."""

    def __init__(self, state_dir, python=None, ready_timeout=30.0, **serve_options):
        self.state_dir = os.path.abspath(str(state_dir))
        self.python = python or sys.executable
        self.ready_timeout = ready_timeout
        self.serve_options = serve_options
        self.process = None
        self.config = None
        self.env = None
        self.admin = None
        self._out = None
        self._err = None

    def command(self):
        cmd = [self.python, "-m", "entra_sandbox", "serve", "--state-dir", self.state_dir]
        for name, value in self.serve_options.items():
            if value is not None:
                cmd += ["--" + name.replace("_", "-"), str(value)]
        return cmd

    def start(self):
        os.makedirs(self.state_dir, exist_ok=True)
        ready = os.path.join(self.state_dir, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        env = dict(os.environ)
        env["PYTHONPATH"] = PACKAGE_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        # pylint: disable=consider-using-with  # the handles live as long as the server; stop() closes them
        self._out = open(os.path.join(self.state_dir, "server.out"), "wb")
        self._err = open(os.path.join(self.state_dir, "server.err"), "wb")
        self.process = subprocess.Popen(self.command(), stdout=self._out, stderr=self._err, env=env)
        deadline = time.monotonic() + self.ready_timeout
        while not os.path.exists(ready):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("sandbox did not become ready (exit code %s); stderr:\n%s" % (self.process.returncode, self.stderr()))
            time.sleep(0.05)
        with open(os.path.join(self.state_dir, "sandbox.json"), encoding="utf-8") as handle:
            self.config = json.load(handle)
        self.env = dict(self.config["env"])
        self.admin = AdminClient(self.config["admin_url"], self.config["ca_path"])
        return self

    def stderr(self):
        path = os.path.join(self.state_dir, "server.err")
        if not os.path.exists(path):
            return ""
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def reload_config(self):
        """sandbox.json changes when the fleet is replaced (tenant summaries, owned service principals)."""
        with open(os.path.join(self.state_dir, "sandbox.json"), encoding="utf-8") as handle:
            self.config = json.load(handle)
        return self.config

    @property
    def base_url(self):
        return self.config["base_url"]

    @property
    def ca_path(self):
        return self.config["ca_path"]

    @property
    def tenant_id(self):
        return self.config["tenants"][0]["id"]

    def app(self, name):
        return self.config["apps"][name]

    def token(self, app="full", tenant_id=None, scope=None):
        """An access token for one of the registered secret apps (a plain token request, no MSAL)."""
        tenant_id = tenant_id or self.tenant_id
        entry = self.app(app)
        form = {"grant_type": "client_credentials", "client_id": entry["client_id"], "client_secret": entry["client_secret"],
                "scope": scope or self.config["scope"]}
        response = requests.post("%s/%s/oauth2/v2.0/token" % (self.base_url, tenant_id), data=form, verify=self.ca_path, timeout=60)
        response.raise_for_status()
        return response.json()["access_token"]

    def graph(self, method, path, app="full", tenant_id=None, token=None, **kwargs):
        """A Graph call relative to /v1.0 (or an absolute URL, e.g. a nextLink); returns the requests.Response."""
        token = token or self.token(app, tenant_id)
        url = path if path.startswith("https://") else self.base_url + "/v1.0" + path
        headers = dict(kwargs.pop("headers", {}), Authorization="Bearer " + token)
        return requests.request(method, url, headers=headers, verify=self.ca_path, timeout=kwargs.pop("timeout", 60), **kwargs)

    def stop(self, timeout=10.0):
        stop_process(self.process, timeout, (self._out, self._err))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

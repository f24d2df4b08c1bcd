"""An automation controller for the run_job_template actions of entra.sync.self_heal_controller, on loopback.

It serves the part of the controller's API v2 that ansible-rulebook uses (`--controller-url`, a Bearer token):
GET api/v2/config/, GET api/v2/unified_job_templates/?name=..., POST api/v2/job_templates/<id>/launch/ and
GET api/v2/jobs/?id__in=... . A launch runs the job template's playbook for real, as the controller's job would:
ansible-playbook with the template's extra variables (where a controller's credentials inject theirs, e.g. the
webhook URL) and then the launch's (ansible_eda with the event), and the job's status follows the playbook's exit.

What it does not stand in for: the controller's execution environments, RBAC, inventories (a job runs on localhost),
credential types (their injected variables are given as the template's) and job isolation.
"""

import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from .webhooks import LocalHttpsServer

API = "/api/v2/"


class _Handler(BaseHTTPRequestHandler):
    server_version = "entra-sandbox-controller"

    def _json(self, status, body):
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _authorized(self):
        if self.headers.get("Authorization") == "Bearer " + self.server.receiver.token:
            return True
        self._json(401, {"detail": "Authentication credentials were not provided."})
        return False

    def do_GET(self):  # pylint: disable=invalid-name  # the name http.server calls
        if not self._authorized():
            return
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        controller = self.server.receiver
        if parts.path == API + "config/":
            self._json(200, {"version": "4.6.0"})
        elif parts.path == API + "unified_job_templates/":
            self._json(200, controller.find_templates(query.get("name")))
        elif parts.path == API + "jobs/":
            self._json(200, controller.jobs_page((query.get("id__in") or "").split(",")))
        else:
            self._json(404, {"detail": "Not found."})

    def do_POST(self):  # pylint: disable=invalid-name  # the name http.server calls
        if not self._authorized():
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length).decode("utf-8")) if length else {}
        path = urlsplit(self.path).path
        prefix, suffix = API + "job_templates/", "/launch/"
        if path.startswith(prefix) and path.endswith(suffix):
            job = self.server.receiver.launch(path[len(prefix):-len(suffix)], body)
            if job is None:
                self._json(404, {"detail": "Not found."})
            else:
                self._json(201, job)
        else:
            self._json(404, {"detail": "Not found."})

    def log_message(self, *_args):
        return


class FakeController(LocalHttpsServer):
    """Job templates by name; launches recorded and run with ansible-playbook (env: the job's environment)."""

    def __init__(self, state_dir, ansible_playbook, env, organization="Default"):
        super().__init__(state_dir, "controller", _Handler)
        self.state_dir = state_dir
        self.token = os.urandom(16).hex()
        self.ansible_playbook = ansible_playbook
        self.env = env
        self.organization = organization
        self.templates = {}  # id -> {name, playbook, extra_vars}
        self.jobs = {}  # id -> job dict
        self.launches = []  # (template name, launch body)

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def add_template(self, name, playbook, extra_vars=None):
        with self._lock:
            template_id = len(self.templates) + 1
            self.templates[template_id] = {"name": name, "playbook": playbook, "extra_vars": dict(extra_vars or {})}
        return template_id

    def find_templates(self, name):
        with self._lock:
            found = [(tid, t) for tid, t in self.templates.items() if t["name"] == name]
        results = [{"id": tid, "type": "job_template", "name": t["name"],
                    "related": {"launch": "%sjob_templates/%d/launch/" % (API, tid)},
                    "summary_fields": {"organization": {"name": self.organization}},
                    "ask_limit_on_launch": True, "ask_labels_on_launch": False, "ask_inventory_on_launch": False,
                    "ask_variables_on_launch": True} for tid, t in found]
        return {"count": len(results), "next": None, "previous": None, "results": results}

    def launch(self, template_id, body):
        with self._lock:
            template = self.templates.get(int(template_id)) if template_id.isdigit() else None
            if template is None:
                return None
            job_id = len(self.jobs) + 1
            job = {"id": job_id, "job": job_id, "type": "job", "url": "%sjobs/%d/" % (API, job_id), "status": "pending",
                   "created": "", "artifacts": {}, "name": template["name"], "ignored_fields": {}}
            self.jobs[job_id] = job
            self.launches.append((template["name"], body))
        # The controller's precedence: the template's variables, then the launch's.
        variables = dict(template["extra_vars"], **(body.get("extra_vars") or {}))
        threading.Thread(target=self._run, args=(job_id, template["playbook"], variables), daemon=True).start()
        return dict(job)

    def _run(self, job_id, playbook, variables):
        workdir = os.path.join(self.state_dir, "job-%d" % job_id)
        os.makedirs(workdir, exist_ok=True)
        vars_path = os.path.join(workdir, "extra_vars.json")
        with open(vars_path, "w", encoding="utf-8") as handle:
            json.dump(variables, handle)
        with self._lock:
            self.jobs[job_id]["status"] = "running"
        with open(os.path.join(workdir, "stdout.txt"), "wb") as out:
            status = subprocess.run([self.ansible_playbook, playbook, "-e", "@" + vars_path], env=self.env, cwd=workdir,
                                    stdout=out, stderr=subprocess.STDOUT, timeout=600, check=False).returncode
        with self._lock:
            self.jobs[job_id]["status"] = "successful" if status == 0 else "failed"

    def jobs_page(self, ids):
        with self._lock:
            results = [dict(self.jobs[int(i)]) for i in ids if i.isdigit() and int(i) in self.jobs]
        return {"count": len(results), "next": None, "previous": None, "results": results}

    def job_output(self, job_id):
        path = os.path.join(self.state_dir, "job-%d" % job_id, "stdout.txt")
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

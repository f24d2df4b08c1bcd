"""A webhook receiver for the escalation tests: HTTPS on loopback with its own CA, recording every post.

    with WebhookReceiver(state_dir) as hooks:
        url = hooks.url("teams")                 # https://127.0.0.1:<port>/hooks/<secret token>/teams
        hooks.answer("teams", [503, 429])        # the next two posts get these; later ones 202
        ... ansible-playbook ... -e entra_sync_heal_webhook_url=<url> -e entra_sync_heal_webhook_ca_path=<hooks.ca_path>
        hooks.posts("teams")                     # [{"status": 503, "body": {...}, "content_type": ...}, ...]

It answers the way the services do: 202 with an empty body (Teams Workflows), or the status planned; 429s and 503s
carry Retry-After. Like the webhooks of Teams and Slack, the URL holds a secret token; the tests look for it in every
output.
"""

import json
import os
import secrets
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme


class _Handler(BaseHTTPRequestHandler):
    server_version = "entra-sandbox-webhooks"

    def do_POST(self):  # pylint: disable=invalid-name  # the name http.server calls
        receiver = self.server.receiver
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        hook = receiver.hook_of(self.path)
        if hook is None:
            self._reply(404, b'{"error": "no such webhook"}')
            return
        status = receiver.next_status(hook)
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            body, status = raw.decode("utf-8", "replace"), 400
        receiver.record(hook, {"status": status, "body": body, "content_type": self.headers.get("Content-Type")})
        self._reply(status, b"" if status < 300 else b'{"error": "planned failure"}')

    def _reply(self, status, payload):
        self.send_response(status)
        if status in (429, 503):
            self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args):  # quiet: the tests read the recorded posts
        return


class LocalHttpsServer:
    """A threaded HTTPS server on 127.0.0.1 with a CA of its own (ca_path): the base of the test receivers."""

    def __init__(self, state_dir, name, handler):
        os.makedirs(state_dir, exist_ok=True)
        ca = trustme.CA(organization_name="entra sandbox %s" % name)
        self.ca_path = os.path.join(state_dir, "%s-ca.pem" % name)
        ca.cert_pem.write_to_path(self.ca_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._server.receiver = self
        self._lock = threading.Lock()
        self._name = name
        self._thread = None

    @property
    def port(self):
        return self._server.server_address[1]

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, name=self._name, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc):
        self.stop()


class WebhookReceiver(LocalHttpsServer):
    """Records the posts of each named webhook; answers 202 unless a status was planned (answer())."""

    def __init__(self, state_dir):
        super().__init__(state_dir, "webhooks", _Handler)
        self.token = secrets.token_urlsafe(24)
        self._posts = {}
        self._plans = {}

    def url(self, hook):
        return "https://127.0.0.1:%d/hooks/%s/%s" % (self.port, self.token, hook)

    def hook_of(self, path):
        prefix = "/hooks/%s/" % self.token
        return path[len(prefix):].split("?", 1)[0] if path.startswith(prefix) else None

    def answer(self, hook, statuses):
        """The statuses of the next posts to `hook`, in order (then 202 again)."""
        with self._lock:
            self._plans[hook] = list(statuses)

    def next_status(self, hook):
        with self._lock:
            plan = self._plans.get(hook) or []
            return plan.pop(0) if plan else 202

    def record(self, hook, post):
        with self._lock:
            self._posts.setdefault(hook, []).append(post)

    def posts(self, hook):
        with self._lock:
            return list(self._posts.get(hook, []))

"""Microsoft's clients pointed at the sandbox, and small helpers over the sandbox's admin API."""

import ast
import asyncio
import os
import ssl
from urllib.parse import urlsplit

import httpx
from azure.identity import CertificateCredential, ClientSecretCredential
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph_core import GraphClientFactory

PROJECT_VENV = os.environ.get("ENTRA_SYNC_VENV") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".venv")


def project_python():
    """The project venv's interpreter: it has the sandbox's and Ansible's requirements."""
    return os.path.abspath(os.path.join(PROJECT_VENV, "bin", "python"))


def secret_credential(sandbox, app="full"):
    """azure-identity at the sandbox authority: custom authority host, no instance discovery, the sandbox's CA."""
    entry = sandbox.app(app)
    return ClientSecretCredential(sandbox.tenant_id, entry["client_id"], entry["client_secret"],
                                  authority=sandbox.config["authority_host"], disable_instance_discovery=True,
                                  connection_verify=sandbox.ca_path)


def certificate_credential(sandbox):
    entry = sandbox.app("cert")
    return CertificateCredential(sandbox.tenant_id, entry["client_id"], certificate_path=entry["certificate_path"],
                                 authority=sandbox.config["authority_host"], disable_instance_discovery=True,
                                 connection_verify=sandbox.ca_path)


def graph_client(sandbox, credential=None):
    """A GraphServiceClient on the SDK's default middleware (retry, redirect, ...) pointed at the sandbox.

    Build it inside the coroutine that uses it: its httpx client belongs to that event loop.
    """
    credential = credential or secret_credential(sandbox)
    host = urlsplit(sandbox.base_url).hostname
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[sandbox.config["scope"]], allowed_hosts=[host])
    http = GraphClientFactory.create_with_default_middleware(client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=sandbox.ca_path)))
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = sandbox.config["graph_url"]
    return GraphServiceClient(request_adapter=adapter)


def run(coroutine_function, *args):
    return asyncio.run(coroutine_function(*args))


def pick_job(sandbox, status_code, **match):
    """The first job (admin summary) of the first tenant with that status code and the given summary fields."""
    for job in sandbox.admin.jobs(sandbox.tenant_id):
        if job["status_code"] == status_code and all(job[name] == value for name, value in match.items()):
            return job
    raise AssertionError("no %s job with %s in the sandbox fleet" % (status_code, match))


def graph_entries(sandbox):
    """The Graph requests in the log: single requests, $batch envelopes and their items."""
    return [entry for entry in sandbox.admin.log() if entry["kind"] in ("graph", "batch", "batch_item")]


def collection_secret_keys():
    """The synchronizationSecret keys the installed collection knows (_jobs/secrets.py SECRET_KEYS), read without importing
    it: this venv holds Microsoft's clients, not Ansible."""
    root = os.environ["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep)[0]
    path = os.path.join(root, "ansible_collections", "entra", "sync", "plugins", "module_utils", "_jobs", "secrets.py")
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "SECRET_KEYS" for target in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError("no SECRET_KEYS in %s" % path)

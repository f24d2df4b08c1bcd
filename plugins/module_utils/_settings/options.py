# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection and auth options every module and plugin shares: one argspec, one adapter, one validation."""

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.entra.sync.plugins.module_utils._exceptions import OptionError
from ansible_collections.entra.sync.plugins.module_utils._settings.clouds import resolve_cloud

# How the job modules send their requests (sync_api.SyncApi's batch; the fleet's entra_sync_batch): light here, so that
# a filter checking the input does not import the HTTP client.
BATCH_MODES = ("none", "reads", "all")

AUTH_METHODS = ("auto", "client_secret", "certificate", "federated_token", "managed_identity", "access_token", "device_code", "azure_cli")
# The methods that sign in as a person rather than as an application (delegated permissions).
DELEGATED_METHODS = ("device_code", "azure_cli")

# Env names are the ones azure-identity and AWX's built-in Azure credential use, so an AWX credential works as is.
ENV_FALLBACKS = {
    "tenant_id": ["AZURE_TENANT_ID", "AZURE_TENANT"],
    "client_id": ["AZURE_CLIENT_ID"],
    "client_secret": ["AZURE_CLIENT_SECRET", "AZURE_SECRET"],
    "client_certificate_path": ["AZURE_CLIENT_CERTIFICATE_PATH"],
    "client_certificate_password": ["AZURE_CLIENT_CERTIFICATE_PASSWORD"],
    "federated_token_file": ["AZURE_FEDERATED_TOKEN_FILE"],
    "access_token": ["ENTRA_SYNC_ACCESS_TOKEN"],
    "cloud": ["AZURE_CLOUD_ENVIRONMENT"],
    "graph_endpoint": ["ENTRA_SYNC_GRAPH_ENDPOINT"],
    "authority_host": ["AZURE_AUTHORITY_HOST"],
    "ca_path": ["ENTRA_SYNC_CA_PATH"],
    "token_cache_path": ["ENTRA_SYNC_TOKEN_CACHE"],
}

# What a GitHub Actions job with `permissions: id-token: write` gets instead of a token file: the URL of its OIDC
# token service and the secret that authorizes a request to it.
GITHUB_OIDC_ENV = ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")

MAX_TIMEOUT = 300
MAX_RETRIES = 10


def _with_env(name, **spec):
    spec["fallback"] = (env_fallback, ENV_FALLBACKS[name])
    return spec


GRAPH_ARGSPEC = {
    "tenant_id": _with_env("tenant_id", type="str"),
    "client_id": _with_env("client_id", type="str"),
    "client_secret": _with_env("client_secret", type="str", no_log=True),
    "client_certificate_path": _with_env("client_certificate_path", type="path"),
    "client_certificate_password": _with_env("client_certificate_password", type="str", no_log=True),
    "federated_token_file": _with_env("federated_token_file", type="path"),
    "managed_identity": {"type": "str"},
    "auth_method": {"type": "str", "default": "auto", "choices": list(AUTH_METHODS)},
    "access_token": _with_env("access_token", type="str", no_log=True),
    "token_cache_path": _with_env("token_cache_path", type="path"),
    "cloud": _with_env("cloud", type="str", default="global"),
    "graph_endpoint": _with_env("graph_endpoint", type="str"),
    "authority_host": _with_env("authority_host", type="str"),
    "ca_path": _with_env("ca_path", type="path"),
    "validate_certs": {"type": "bool", "default": True},
    "timeout": {"type": "float", "default": 30.0},
    "max_retries": {"type": "int", "default": 5},
}

# graph_token's own options (the module's argspec and its action plugin's): they shape a device_code sign-in.
GRAPH_TOKEN_ARGSPEC = {
    "force_sign_in": {"type": "bool", "default": False},
    "scopes": {"type": "list", "elements": "str"},
}

_TENANT_RE = re.compile(r"^(?:[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+)$")


def graph_argspec():
    """A fresh copy of the shared argspec, for a module to extend with its own options."""
    return {name: dict(spec) for name, spec in GRAPH_ARGSPEC.items()}


def _root_url(option, value):
    """Accept only an https root URL such as https://127.0.0.1:8443; return it without a trailing slash."""
    parts = urlsplit(value.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise OptionError("%s %r must be an https:// URL, e.g. https://graph.microsoft.com." % (option, value))
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise OptionError(
            "%s %r must be a root URL with no path or query, e.g. https://%s (the collection adds /v1.0 and the tenant itself)."
            % (option, value, parts.netloc)
        )
    return "https://" + parts.netloc


def _number(option, value, default, kind):
    if value is None:
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise OptionError("%s %r is not a number." % (option, value)) from None
    if kind is int and number != float(value):
        raise OptionError("%s %r must be a whole number." % (option, value))
    return number


@dataclass(frozen=True)
class ConnectionSettings:
    """Validated connection settings; built by settings_from_options() for modules and plugins alike."""

    cloud: object
    graph_root: str
    authority_host: str
    verify: object
    timeout: float
    max_retries: int
    auth_method: str = "auto"
    tenant_id: str = None
    client_id: str = None
    client_secret: str = field(default=None, repr=False)
    client_certificate_path: str = None
    client_certificate_password: str = field(default=None, repr=False)
    federated_token_file: str = None
    managed_identity: str = None
    access_token: str = field(default=None, repr=False)
    validate_certs: bool = True
    github_oidc_request_url: str = None
    github_oidc_request_token: str = field(default=None, repr=False)
    token_cache_path: str = None

    @property
    def graph_base(self):
        return self.graph_root + "/v1.0"

    @property
    def scope(self):
        return self.cloud.scope

    def secret_values(self):
        """Every secret these settings hold, so error text can be scrubbed of them."""
        secrets = (self.client_secret, self.client_certificate_password, self.access_token, self.github_oidc_request_token)
        return [value for value in secrets if value]


def _endpoints(text):
    """(cloud, graph root URL, authority host URL): the cloud's, or the overrides. CloudError is an OptionError."""
    cloud = resolve_cloud(text("cloud") or "global")
    graph_endpoint = text("graph_endpoint")
    graph_root = _root_url("graph_endpoint", graph_endpoint) if graph_endpoint else cloud.graph_root
    authority = text("authority_host")
    authority_host = _root_url("authority_host", authority) if authority else cloud.authority_host
    return cloud, graph_root, authority_host


def _tls(validate_certs, ca_path):
    """(validate_certs, requests' verify=): the CA bundle to trust, True for the system's, False for none."""
    validate_certs = True if validate_certs is None else bool(validate_certs)
    if ca_path is not None and not os.access(ca_path, os.R_OK):
        raise OptionError("ca_path %r cannot be read: give a readable PEM bundle of the CAs to trust." % ca_path)
    return validate_certs, (ca_path or True) if validate_certs else False


def settings_from_options(get_option, environ=None):
    """Build ConnectionSettings from a callable name -> value (AnsibleModule.params.get or a plugin's get_option).

    GitHub Actions' OIDC variables are read from `environ` (default os.environ): the platform sets them, no play does.
    Every check here is local: nothing is sent before the settings are known to be usable.
    """
    environ = os.environ if environ is None else environ

    def text(name):
        value = get_option(name)
        if isinstance(value, str):
            value = value.strip()
        return value or None

    cloud, graph_root, authority_host = _endpoints(text)
    timeout, max_retries = _limits(get_option)
    tenant_id = _tenant_id(text("tenant_id"))
    validate_certs, verify = _tls(get_option("validate_certs"), text("ca_path"))
    auth_method = text("auth_method") or "auto"
    if auth_method not in AUTH_METHODS:
        raise OptionError("auth_method %r is not known: use one of %s." % (auth_method, ", ".join(AUTH_METHODS)))

    return ConnectionSettings(
        cloud=cloud,
        graph_root=graph_root,
        authority_host=authority_host,
        verify=verify,
        validate_certs=validate_certs,
        timeout=timeout,
        max_retries=max_retries,
        auth_method=auth_method,
        tenant_id=tenant_id,
        client_id=text("client_id"),
        client_secret=get_option("client_secret") or None,
        client_certificate_path=text("client_certificate_path"),
        client_certificate_password=get_option("client_certificate_password") or None,
        federated_token_file=text("federated_token_file"),
        managed_identity=text("managed_identity"),
        access_token=text("access_token"),
        token_cache_path=text("token_cache_path"),
        github_oidc_request_url=_env_text(environ, GITHUB_OIDC_ENV[0]),
        github_oidc_request_token=_env_text(environ, GITHUB_OIDC_ENV[1]),
    )


def _limits(get_option):
    """(timeout, max_retries), each checked against its range."""
    timeout = _number("timeout", get_option("timeout"), 30.0, float)
    if not 0 < timeout <= MAX_TIMEOUT:
        raise OptionError("timeout %s is out of range: give seconds per request, more than 0 and at most %d." % (timeout, MAX_TIMEOUT))
    max_retries = _number("max_retries", get_option("max_retries"), 5, int)
    if not 0 <= max_retries <= MAX_RETRIES:
        raise OptionError("max_retries %s is out of range: use 0 to %d." % (max_retries, MAX_RETRIES))
    return timeout, max_retries


def _tenant_id(tenant_id):
    """tenant_id as given, or an OptionError for a value Entra cannot sign an app in to."""
    if tenant_id is not None and tenant_id.lower() in ("common", "organizations", "consumers"):
        raise OptionError("tenant_id %r cannot be used for an application sign-in: give the directory (tenant) id." % tenant_id)
    if tenant_id is not None and not _TENANT_RE.match(tenant_id):
        raise OptionError(
            "tenant_id %r is neither a GUID nor a domain name: use the directory (tenant) id, e.g. "
            "00000000-0000-0000-0000-000000000000, or a verified domain such as contoso.onmicrosoft.com." % tenant_id[:80]
        )
    return tenant_id


def _env_text(environ, name):
    """An environment variable's value, stripped; None when unset or empty."""
    return (environ.get(name) or "").strip() or None

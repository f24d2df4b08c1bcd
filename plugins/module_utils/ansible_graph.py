# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The glue every module shares: the argspec, settings, credential and client, with errors turned into fail_json."""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.entra.sync.plugins.module_utils._graph.client import GraphClient
from ansible_collections.entra.sync.plugins.module_utils.auth import credential_from_settings, jwt_claims
from ansible_collections.entra.sync.plugins.module_utils.exceptions import AuthError, EntraSyncError, GraphError
from ansible_collections.entra.sync.plugins.module_utils.fleet import MAX_CONCURRENCY
from ansible_collections.entra.sync.plugins.module_utils.options import graph_argspec, settings_from_options
from ansible_collections.entra.sync.plugins.module_utils.sync_api import SyncApi

DEFAULT_CONCURRENCY = 10


class GraphModule(AnsibleModule):
    """An AnsibleModule that takes the shared connection options and connects to Graph on demand."""

    def __init__(self, argument_spec, **kwargs):
        spec = graph_argspec()
        spec.update(argument_spec)
        super().__init__(argument_spec=spec, **kwargs)
        self.credential = None

    def connect(self, pool_size=DEFAULT_CONCURRENCY, write_rate=None):
        """Validate every connection option locally, then return a SyncApi; fails the task with the reason.

        write_rate: restarts per second to start from (a pace learned by an earlier task), None to learn it from 429s.
        """
        try:
            settings = settings_from_options(self.params.get)
            self.credential = credential_from_settings(settings)
        except EntraSyncError as exc:
            self.fail_json(msg=str(exc))
        if not settings.validate_certs:
            self.warn("validate_certs is false: TLS certificates of %s are not verified. Use ca_path instead where you can." % settings.graph_root)
        return SyncApi(GraphClient(settings, self.credential, pool_size=pool_size, write_rate=write_rate))

    def concurrency(self):
        """The module's concurrency option, checked before anything is sent."""
        value = self.params["concurrency"]
        if not 1 <= value <= MAX_CONCURRENCY:
            self.fail_json(msg="concurrency %s is out of range: use 1 to %d." % (value, MAX_CONCURRENCY))
        return value

    def fail_graph(self, exc, **result):
        """Fail on a GraphError/AuthError, keeping what was done so far in the result."""
        extra = {}
        if isinstance(exc, GraphError) and exc.status:
            extra = {"status": exc.status, "error_code": exc.code}
        result.update(extra)
        self.fail_json(msg=str(exc), **result)

    def tenant_id(self):
        """The tenant in use: the option, or the `tid` of the token once one is in hand."""
        if self.credential is None:
            return None
        if self.credential.settings.tenant_id:
            return self.credential.settings.tenant_id
        try:
            return jwt_claims(self.credential.get_token().token).get("tid")
        except AuthError:
            return None

    @property
    def auth_method_used(self):
        return self.credential.method if self.credential else None

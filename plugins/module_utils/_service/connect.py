# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From connection options to a Graph client: the one path for the modules, the inventory plugin and the event source.

options (a callable name -> value) --> ConnectionSettings --> credential --> GraphClient --> SyncApi

Every check before the client exists is local (settings_from_options, credential.validate): a bad option fails here,
before any request. Nothing here signs in; the first request does.
"""

from dataclasses import dataclass

from ansible_collections.entra.sync.plugins.module_utils._auth.base import jwt_claims
from ansible_collections.entra.sync.plugins.module_utils._auth.pick import credential_from_settings
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError
from ansible_collections.entra.sync.plugins.module_utils._graph.client import GraphClient
from ansible_collections.entra.sync.plugins.module_utils._graph.sync_api import SyncApi
from ansible_collections.entra.sync.plugins.module_utils._settings.options import settings_from_options

DEFAULT_CONCURRENCY = 10


def unverified_tls_warning(settings):
    """The warning to show when TLS certificates are not checked, or None when they are."""
    if settings.validate_certs:
        return None
    return "validate_certs is false: TLS certificates of %s are not verified. Use ca_path instead where you can." % settings.graph_root


@dataclass
class Connection:
    """The settings, credential and API of one tenant and sign-in, made by connect()."""

    settings: object
    credential: object
    api: SyncApi

    @property
    def client(self):
        return self.api.client

    @property
    def auth_method(self):
        return self.credential.method

    def known_tenant_id(self):
        """The tenant without signing in: the option, else the `tid` of a given access token, else None."""
        if self.settings.tenant_id:
            return self.settings.tenant_id
        if self.settings.access_token:
            return jwt_claims(self.settings.access_token).get("tid") or None
        return None

    def tenant_id(self):
        """The tenant in use: known_tenant_id(), else the `tid` of the token in hand (signs in if none is); None on failure."""
        known = self.known_tenant_id()
        if known:
            return known
        try:
            return jwt_claims(self.credential.get_token().token).get("tid")
        except AuthError:
            return None

    def close(self):
        self.client.close()


def connect(get_option, pool_size=DEFAULT_CONCURRENCY, write_rate=None, batch="none", warn=None):
    """A Connection from options; raises OptionError/AuthError (both EntraSyncError) before anything is sent.

    get_option: AnsibleModule.params.get, a plugin's get_option, or an event source's args.get.
    write_rate: restarts per second to start from (a pace learned by an earlier task), None to learn it from 429s.
    batch: none, reads or all (see SyncApi). warn: called once with the unverified-TLS warning when there is one.
    """
    settings = settings_from_options(get_option)
    credential = credential_from_settings(settings)
    warning = unverified_tls_warning(settings)
    if warning and warn is not None:
        warn(warning)
    client = GraphClient(settings, credential, pool_size=pool_size, write_rate=write_rate)
    return Connection(settings, credential, SyncApi(client, batch=batch))

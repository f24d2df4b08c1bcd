# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""connect(): the one path from options to a Graph client, for the modules, the inventory plugin and the event source."""

import base64
import json
import time

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, OptionError
from ansible_collections.entra.sync.plugins.module_utils._service.connect import connect, unverified_tls_warning

TENANT = "00000000-0000-4000-8000-000000000001"
TOKEN_TENANT = "00000000-0000-4000-8000-00000000000b"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _token(**claims):
    claims.setdefault("exp", int(time.time()) + 3600)
    return "%s.%s.sig" % (_b64(b'{"alg":"none"}'), _b64(json.dumps(claims).encode()))


def _options(**options):
    base = {"graph_endpoint": "https://127.0.0.1:8443", "authority_host": "https://127.0.0.1:8443"}
    base.update(options)
    return base.get


def test_a_bad_option_is_refused_before_any_client_exists():
    with pytest.raises(OptionError) as info:
        connect(_options(tenant_id="common", client_id="app", client_secret="s3cret-value"))
    assert "tenant_id" in str(info.value) and "s3cret-value" not in str(info.value)


def test_a_missing_credential_is_refused_locally():
    with pytest.raises(AuthError) as info:
        connect(_options(tenant_id=TENANT, client_id="app"))
    assert "AZURE_CLIENT_SECRET" in str(info.value)


def test_the_connection_carries_the_batch_mode_and_the_method():
    connection = connect(_options(tenant_id=TENANT, client_id="app", client_secret="s3cret"), pool_size=4, batch="reads")
    try:
        assert connection.api.batch_reads and not connection.api.batch_writes
        assert connection.auth_method == "client_secret"
        assert connection.client.settings.graph_base == "https://127.0.0.1:8443/v1.0"
    finally:
        connection.close()


def test_an_unknown_batch_mode_is_refused():
    with pytest.raises(ValueError):
        connect(_options(tenant_id=TENANT, client_id="app", client_secret="s3cret"), batch="sometimes")


def test_the_tenant_comes_from_the_option_then_from_a_given_token_without_signing_in():
    with_option = connect(_options(tenant_id=TENANT, client_id="app", client_secret="s3cret"))
    assert with_option.known_tenant_id() == TENANT
    from_token = connect(_options(access_token=_token(tid=TOKEN_TENANT)))
    assert from_token.known_tenant_id() == TOKEN_TENANT
    assert from_token.tenant_id() == TOKEN_TENANT


def test_unverified_tls_is_warned_once_and_verified_tls_not_at_all():
    warnings = []
    connect(_options(tenant_id=TENANT, client_id="app", client_secret="s3cret", validate_certs=False), warn=warnings.append)
    assert warnings == ["validate_certs is false: TLS certificates of https://127.0.0.1:8443 are not verified. "
                        "Use ca_path instead where you can."]
    verified = connect(_options(tenant_id=TENANT, client_id="app", client_secret="s3cret"), warn=warnings.append)
    assert len(warnings) == 1 and unverified_tls_warning(verified.settings) is None

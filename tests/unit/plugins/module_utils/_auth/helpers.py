# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the credential tests share: settings builders, unsigned JWTs, a local credential and an MSAL stand-in."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.hazmat.primitives import serialization

from ansible_collections.entra.sync.plugins.module_utils._auth.base import AccessToken, Credential
from ansible_collections.entra.sync.plugins.module_utils._auth.pick import credential_from_settings
from ansible_collections.entra.sync.plugins.module_utils._settings.options import settings_from_options

TENANT = "00000000-0000-4000-8000-000000000001"
CLIENT = "11111111-1111-4111-8111-111111111111"
SECRET = "Sup3r-S3cret~Value.42"
PASSWORD = "Pfx-P@ss-9731"
NOW = 1_700_000_000.0
ENV_NAMES = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE", "ENTRA_SYNC_ACCESS_TOKEN")


def settings(**options):
    return settings_from_options(dict(options).get)


def app_settings(**options):
    return settings(tenant_id=TENANT, client_id=CLIENT, **options)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(claims):
    """An unsigned JWT: enough for code that only reads the claims."""
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return "%s.%s.%s" % (header, b64url(json.dumps(claims).encode()), b64url(b"not-a-signature"))


class Clock:
    """Stands in for the time module inside the credential modules."""

    def __init__(self, now=NOW):
        self.now = now

    def time(self):
        return self.now


class CountingCredential(Credential):
    """A credential whose sign-in is local: each _acquire hands out a new token valid for `lifetime` seconds."""

    method = "client_secret"

    def __init__(self, settings_, clock_, lifetime=3600):
        super().__init__(settings_)
        self.clock = clock_
        self.lifetime = lifetime
        self.acquired = []

    def _acquire(self, force_refresh):
        self.acquired.append(force_refresh)
        return AccessToken("fresh-%d" % len(self.acquired), self.clock.time() + self.lifetime, "identity_provider")


class FakeApp:
    def __init__(self, result=None, error=None):
        self.result = result
        self.error = error
        self.calls = []

    def remove_tokens_for_client(self):
        self.calls.append("remove")

    def acquire_token_for_client(self, scopes):
        self.calls.append(tuple(scopes))
        if self.error is not None:
            raise self.error
        return self.result


def secret_credential(monkeypatch, app):
    credential = credential_from_settings(app_settings(client_secret=SECRET))
    monkeypatch.setattr(credential, "_app", lambda: app)
    return credential


def sha1_of(cert):
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def key_pem(key, password=None):
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)

# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Certificates: PEM and PFX files, their validation messages, and what MSAL gets."""

from __future__ import annotations

import base64
import hashlib
import json

import jwt
import msal
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.entra.sync.plugins.module_utils._auth.certificate import CertificateCredential, check_msal_release, load_certificate
from ansible_collections.entra.sync.plugins.module_utils._auth.pick import credential_from_settings
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._auth.helpers import (
    CLIENT,
    PASSWORD,
    TENANT,
    app_settings,
    cert_pem,
    key_pem,
    sha1_of,
)

# ---------------------------------------------------------------------------------------------------
# Certificates


def assert_loaded(loaded, key, cert):
    assert set(loaded) == {"private_key", "thumbprint", "public_certificate"}
    assert loaded["thumbprint"] == sha1_of(cert)
    assert len(loaded["thumbprint"]) == 40
    assert loaded["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert loaded["private_key"] == key_pem(key).decode()
    assert loaded["public_certificate"] == cert_pem(cert).decode()


def test_pem_key_and_cert(tmp_path, key_and_cert):
    key, cert = key_and_cert
    path = tmp_path / "app.pem"
    path.write_bytes(key_pem(key) + cert_pem(cert))
    assert_loaded(load_certificate(str(path), None), key, cert)


def test_pem_cert_before_key(tmp_path, key_and_cert):
    key, cert = key_and_cert
    path = tmp_path / "app.pem"
    path.write_bytes(cert_pem(cert) + key_pem(key))
    assert_loaded(load_certificate(str(path), None), key, cert)


def test_pem_with_an_encrypted_key(tmp_path, key_and_cert):
    key, cert = key_and_cert
    path = tmp_path / "app.pem"
    path.write_bytes(key_pem(key, PASSWORD) + cert_pem(cert))
    assert_loaded(load_certificate(str(path), PASSWORD), key, cert)


@pytest.mark.parametrize("password", [None, "wrong-" + PASSWORD])
def test_pem_with_an_encrypted_key_and_no_or_a_wrong_password(tmp_path, key_and_cert, password):
    key, cert = key_and_cert
    path = tmp_path / "app.pem"
    path.write_bytes(key_pem(key, PASSWORD) + cert_pem(cert))
    with pytest.raises(AuthError) as info:
        load_certificate(str(path), password)
    text = str(info.value)
    assert "client_certificate_password" in text
    assert PASSWORD not in text


def test_pem_with_no_key(tmp_path, key_and_cert):
    path = tmp_path / "cert-only.pem"
    path.write_bytes(cert_pem(key_and_cert[1]))
    with pytest.raises(AuthError) as info:
        load_certificate(str(path), None)
    assert "no private key" in str(info.value)
    assert str(path) in str(info.value)


def test_pem_with_no_cert(tmp_path, key_and_cert):
    path = tmp_path / "key-only.pem"
    path.write_bytes(key_pem(key_and_cert[0]))
    with pytest.raises(AuthError) as info:
        load_certificate(str(path), None)
    assert "no certificate" in str(info.value)


def test_pfx_with_a_password(tmp_path, key_and_cert):
    key, cert = key_and_cert
    path = tmp_path / "app.pfx"
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"app", key, cert, None, serialization.BestAvailableEncryption(PASSWORD.encode())))
    assert_loaded(load_certificate(str(path), PASSWORD), key, cert)


def test_pfx_without_a_password(tmp_path, key_and_cert):
    key, cert = key_and_cert
    path = tmp_path / "app.pfx"
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"app", key, cert, None, serialization.NoEncryption()))
    assert_loaded(load_certificate(str(path), None), key, cert)


@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_pfx_with_a_wrong_password(tmp_path, key_and_cert, password):
    key, cert = key_and_cert
    path = tmp_path / "app.pfx"
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"app", key, cert, None, serialization.BestAvailableEncryption(PASSWORD.encode())))
    with pytest.raises(AuthError) as info:
        load_certificate(str(path), password)
    text = str(info.value)
    assert "client_certificate_password" in text
    assert PASSWORD not in text
    assert "wrong-password" not in text


def test_pfx_with_no_key(tmp_path, key_and_cert):
    path = tmp_path / "cert-only.pfx"
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"app", None, key_and_cert[1], None, serialization.NoEncryption()))
    with pytest.raises(AuthError) as info:
        load_certificate(str(path), None)
    assert "both the private key and the certificate" in str(info.value)


@pytest.mark.parametrize("content", [b"", b"garbage, not a certificate\n", b"\x00\x01\x02" * 100, b"-----BEGIN GARBAGE-----\nxx\n"])
def test_garbage_file(tmp_path, content):
    path = tmp_path / "garbage.bin"
    path.write_bytes(content)
    with pytest.raises(AuthError) as info:
        load_certificate(str(path), PASSWORD)
    assert str(path) in str(info.value)
    assert PASSWORD not in str(info.value)


def test_missing_file(tmp_path):
    path = tmp_path / "missing.pem"
    with pytest.raises(AuthError) as info:
        load_certificate(str(path), PASSWORD)
    text = str(info.value)
    assert "cannot be read" in text
    assert str(path) in text
    assert PASSWORD not in text


def test_certificate_credential_loads_at_validate(tmp_path, key_and_cert):
    key, cert = key_and_cert
    path = tmp_path / "app.pem"
    path.write_bytes(key_pem(key) + cert_pem(cert))
    credential = credential_from_settings(app_settings(client_certificate_path=str(path)))
    assert isinstance(credential, CertificateCredential)
    client_credential = credential._client_credential()
    # MSAL's current form: no SHA-1 thumbprint, so MSAL signs with the certificate's SHA-256 thumbprint (x5t#S256).
    assert client_credential == {"private_key": key_pem(key).decode(), "public_certificate": cert_pem(cert).decode()}
    client_credential["private_key"] = "changed"
    assert credential._client_credential()["private_key"] == key_pem(key).decode()


def test_certificate_credential_refuses_an_unreadable_file_before_any_request(tmp_path):
    with pytest.raises(AuthError) as info:
        credential_from_settings(app_settings(client_certificate_path=str(tmp_path / "nope.pem"), client_certificate_password=PASSWORD))
    assert PASSWORD not in str(info.value)


@pytest.mark.parametrize("version", ["1.35.0", "1.39.0", "1.40.0b1", "2.0"])
def test_msal_that_signs_with_sha256_is_accepted(version):
    check_msal_release(version)


@pytest.mark.parametrize("version", ["1.29.0", "1.34.2", "0"])
def test_msal_too_old_for_sha256_is_refused_saying_how_to_upgrade(version):
    with pytest.raises(AuthError) as info:
        check_msal_release(version)
    text = str(info.value)
    assert "msal 1.35 or newer" in text and "msal %s is installed" % version in text
    assert "pip install --upgrade 'msal>=1.35'" in text


class DiscoveryAndTokenEndpoint:
    """MSAL's http_client: answers the authority's OpenID discovery, and records the token request."""

    def __init__(self, authority):
        self.authority = authority
        self.token_requests = []

    def get(self, url, params=None, headers=None, **kwargs):
        assert url.startswith(self.authority)
        body = {"issuer": self.authority + "/v2.0", "token_endpoint": self.authority + "/oauth2/v2.0/token",
                "authorization_endpoint": self.authority + "/oauth2/v2.0/authorize"}
        return FakeResponse(200, json.dumps(body))

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        self.token_requests.append(dict(data))
        return FakeResponse(200, json.dumps({"access_token": "msal-token", "expires_in": 3600, "token_type": "Bearer"}))

    def close(self):
        pass


class FakeResponse:
    def __init__(self, status_code, text):
        self.status_code = status_code
        self.text = text
        self.headers = {}

    def raise_for_status(self):
        pass


@pytest.mark.filterwarnings("ignore:The RSA key is 1024 bits")
def test_msal_signs_the_assertion_with_the_sha256_thumbprint(tmp_path, key_and_cert, monkeypatch):
    """Real MSAL over a recorded token endpoint: PS256 and x5t#S256, no SHA-1 x5t."""
    key, cert = key_and_cert
    path = tmp_path / "app.pem"
    path.write_bytes(key_pem(key) + cert_pem(cert))
    credential = credential_from_settings(app_settings(client_certificate_path=str(path)))
    endpoint = DiscoveryAndTokenEndpoint("%s/%s" % (credential.settings.authority_host, TENANT))
    app = msal.ConfidentialClientApplication(CLIENT, client_credential=credential._client_credential(), authority=endpoint.authority,
                                             instance_discovery=False, http_client=endpoint)
    monkeypatch.setattr(credential, "_app", lambda: app)
    assert credential.get_token().token == "msal-token"
    assertion = endpoint.token_requests[0]["client_assertion"]
    header = jwt.get_unverified_header(assertion)
    sha256 = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    assert header["alg"] == "PS256"
    thumbprint = header["x5t#S256"].rstrip("=")
    assert base64.urlsafe_b64decode(thumbprint + "=" * (-len(thumbprint) % 4)) == sha256
    assert "x5t" not in header

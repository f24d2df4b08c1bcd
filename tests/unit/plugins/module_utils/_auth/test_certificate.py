# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Certificates: PEM and PFX files, their validation messages, and what MSAL gets."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.entra.sync.plugins.module_utils._auth import credential_from_settings
from ansible_collections.entra.sync.plugins.module_utils._auth.certificate import CertificateCredential, load_certificate
from ansible_collections.entra.sync.plugins.module_utils.exceptions import AuthError
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._auth.helpers import (
    PASSWORD,
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
    assert client_credential["thumbprint"] == sha1_of(cert)
    client_credential["thumbprint"] = "changed"
    assert credential._client_credential()["thumbprint"] == sha1_of(cert)


def test_certificate_credential_refuses_an_unreadable_file_before_any_request(tmp_path):
    with pytest.raises(AuthError) as info:
        credential_from_settings(app_settings(client_certificate_path=str(tmp_path / "nope.pem"), client_certificate_password=PASSWORD))
    assert PASSWORD not in str(info.value)

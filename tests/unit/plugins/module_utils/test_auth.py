# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the credentials: method choice, given tokens, certificates, sign-in errors. No network."""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.entra.sync.plugins.module_utils import auth
from ansible_collections.entra.sync.plugins.module_utils.auth import (
    AccessToken,
    AccessTokenCredential,
    CertificateCredential,
    ClientSecretCredential,
    Credential,
    FederatedTokenCredential,
    ManagedIdentityCredential,
    RefreshableAccessToken,
    credential_from_settings,
    describe_sign_in_error,
    jwt_claims,
    load_certificate,
    pick_auth_method,
)
from ansible_collections.entra.sync.plugins.module_utils.exceptions import AuthError
from ansible_collections.entra.sync.plugins.module_utils.options import settings_from_options

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
    """Stands in for the time module inside auth."""

    def __init__(self, now=NOW):
        self.now = now

    def time(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(auth, "time", fake)
    return fake


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


# ---------------------------------------------------------------------------------------------------
# pick_auth_method


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"client_secret": SECRET}, ("client_secret", None)),
        ({"client_certificate_path": "/x.pem"}, ("certificate", None)),
        ({"client_certificate_path": "/x.pfx", "client_certificate_password": PASSWORD}, ("certificate", None)),
        ({"federated_token_file": "/var/run/token"}, ("federated_token", None)),
        ({"managed_identity": "system"}, ("managed_identity", None)),
        ({"access_token": "tok"}, ("access_token", None)),
        ({"access_token": "tok", "client_secret": SECRET}, ("access_token", "client_secret")),
        ({"access_token": "tok", "client_certificate_path": "/x.pem"}, ("access_token", "certificate")),
        ({"access_token": "tok", "managed_identity": "system"}, ("access_token", "managed_identity")),
        ({"auth_method": "certificate", "client_secret": SECRET, "client_certificate_path": "/x.pem"}, ("certificate", None)),
        ({"auth_method": "client_secret"}, ("client_secret", None)),
        ({"auth_method": "access_token", "access_token": "tok", "client_secret": SECRET}, ("access_token", None)),
    ],
)
def test_pick_auth_method(options, expected):
    assert pick_auth_method(app_settings(**options)) == expected


@pytest.mark.parametrize(
    "options",
    [
        {"client_secret": SECRET, "client_certificate_path": "/x.pem"},
        {"client_secret": SECRET, "federated_token_file": "/t"},
        {"client_certificate_path": "/x.pem", "managed_identity": "system"},
        {"client_secret": SECRET, "client_certificate_path": "/x.pem", "federated_token_file": "/t", "access_token": "tok"},
    ],
)
def test_conflicting_credentials_name_the_options(options):
    with pytest.raises(AuthError) as info:
        pick_auth_method(app_settings(**options))
    text = str(info.value)
    assert text.startswith("Conflicting credentials")
    assert "auth_method" in text
    for option in ("client_secret", "client_certificate_path", "federated_token_file", "managed_identity"):
        assert (option in text) == (option in options), option
    assert SECRET not in text


@pytest.mark.parametrize("options", [{}, {"client_certificate_password": PASSWORD}, {"client_secret": ""}])
def test_no_credential_names_the_env_vars(options):
    with pytest.raises(AuthError) as info:
        pick_auth_method(app_settings(**options))
    text = str(info.value)
    for env in ENV_NAMES:
        assert env in text
    assert "managed_identity" in text
    assert PASSWORD not in text


def test_explicit_access_token_without_a_token():
    with pytest.raises(AuthError) as info:
        pick_auth_method(app_settings(auth_method="access_token", client_secret=SECRET))
    assert "ENTRA_SYNC_ACCESS_TOKEN" in str(info.value)


# ---------------------------------------------------------------------------------------------------
# credential_from_settings: validate() only, no network


def test_secret_credential_needs_tenant_and_client():
    with pytest.raises(AuthError) as info:
        credential_from_settings(settings(client_secret=SECRET))
    text = str(info.value)
    assert "tenant_id (env AZURE_TENANT_ID or AZURE_TENANT)" in text
    assert "client_id (env AZURE_CLIENT_ID)" in text
    assert SECRET not in text


def test_secret_credential_is_built_without_signing_in():
    credential = credential_from_settings(app_settings(client_secret=SECRET))
    assert isinstance(credential, ClientSecretCredential)
    assert credential.method == "client_secret"
    assert CLIENT in credential.describe() and TENANT in credential.describe()
    assert SECRET not in credential.describe()


def test_explicit_method_without_its_credential_is_refused():
    with pytest.raises(AuthError) as info:
        credential_from_settings(app_settings(auth_method="client_secret"))
    assert "client_secret" in str(info.value)


def test_explicit_method_without_its_credential_names_the_env_var():
    with pytest.raises(AuthError) as info:
        credential_from_settings(app_settings(auth_method="client_secret"))
    assert "AZURE_CLIENT_SECRET" in str(info.value)


def test_explicit_managed_identity_without_a_value():
    with pytest.raises(AuthError) as info:
        credential_from_settings(settings(auth_method="managed_identity"))
    assert "managed_identity" in str(info.value)
    assert "system" in str(info.value)


@pytest.mark.parametrize("identity, expected", [("system", "system-assigned"), ("SYSTEM", "system-assigned"), (CLIENT, CLIENT)])
def test_managed_identity_describe(identity, expected):
    credential = credential_from_settings(settings(managed_identity=identity))
    assert isinstance(credential, ManagedIdentityCredential)
    assert expected in credential.describe()


def test_access_token_with_a_credential_is_refreshable():
    credential = credential_from_settings(app_settings(access_token=make_jwt({"exp": 4_000_000_000}), client_secret=SECRET))
    assert isinstance(credential, RefreshableAccessToken)
    assert credential.method == "access_token"
    assert "client secret" in credential.describe()


def test_access_token_with_a_credential_still_validates_the_credential():
    with pytest.raises(AuthError) as info:
        credential_from_settings(settings(access_token="tok", client_secret=SECRET))
    assert "tenant_id" in str(info.value)


# ---------------------------------------------------------------------------------------------------
# AccessTokenCredential


def test_given_jwt_is_used_as_is(clock):
    token = make_jwt({"exp": NOW + 3600, "roles": ["Synchronization.ReadWrite.All"]})
    credential = credential_from_settings(settings(access_token=token))
    assert isinstance(credential, AccessTokenCredential)
    got = credential.get_token()
    assert got.token == token
    assert got.expires_on == NOW + 3600
    assert got.source == "given"
    assert "access_token" in credential.describe()
    assert token not in repr(got)


def test_expired_jwt_fails_with_the_refresh_advice(clock):
    token = make_jwt({"exp": NOW - 60})
    with pytest.raises(AuthError) as info:
        credential_from_settings(settings(access_token=token))
    text = str(info.value)
    assert "expired" in text
    assert "entra.sync.graph_auth" in text
    assert "client_secret" in text
    assert token not in text


def test_given_token_expiring_during_the_run(clock):
    credential = credential_from_settings(settings(access_token=make_jwt({"exp": NOW + 60})))
    assert credential.get_token().expires_on == NOW + 60
    clock.now += 61
    with pytest.raises(AuthError) as info:
        credential.get_token()
    assert "graph_auth" in str(info.value)


def test_given_token_cannot_be_refreshed(clock):
    credential = credential_from_settings(settings(access_token=make_jwt({"exp": NOW + 3600})))
    with pytest.raises(AuthError) as info:
        credential.get_token(force_refresh=True)
    assert "cannot be refreshed" in str(info.value)


def test_opaque_token_has_no_expiry(clock):
    credential = credential_from_settings(settings(access_token="opaque-token-value"))
    got = credential.get_token()
    assert got.token == "opaque-token-value"
    assert got.expires_on == 0
    assert not got.needs_refresh()


@pytest.mark.parametrize("token", ["two words", "tab\there", "line\nbreak"])
def test_token_with_whitespace_is_refused(token):
    with pytest.raises(AuthError) as info:
        credential_from_settings(settings(access_token=token))
    assert "whitespace" in str(info.value)
    assert token not in str(info.value)


def test_token_with_a_non_numeric_exp_is_not_a_crash(clock):
    credential = AccessTokenCredential(settings(access_token=make_jwt({"exp": "soon"})))
    with contextlib.suppress(AuthError):
        credential.validate()


# ---------------------------------------------------------------------------------------------------
# Token lifetime and refresh


def test_access_token_needs_refresh_once_expired():
    token = AccessToken("t", NOW + 100, "test")
    assert not token.needs_refresh(now=NOW)
    assert token.needs_refresh(now=NOW + 101)
    assert not AccessToken("t", 0, "test").needs_refresh(now=NOW)


def test_credential_caches_until_expiry_and_force_refresh_reacquires(clock):
    credential = CountingCredential(app_settings(client_secret=SECRET), clock)
    assert credential.get_token().token == "fresh-1"
    assert credential.get_token().token == "fresh-1"
    assert credential.get_token(force_refresh=True).token == "fresh-2"
    clock.now += 3601
    assert credential.get_token().token == "fresh-3"
    assert credential.acquired == [False, True, False]


def test_credential_refreshes_shortly_before_expiry(clock):
    credential = CountingCredential(app_settings(client_secret=SECRET), clock)
    credential.get_token()
    clock.now += 3590  # 10 s left of a one-hour token: well inside the five-minute margin
    assert credential.get_token().token == "fresh-2"


def refreshable(clock, exp):
    current = app_settings(access_token=make_jwt({"exp": exp}), client_secret=SECRET)
    fallback = CountingCredential(current, clock)
    credential = RefreshableAccessToken(current, AccessTokenCredential(current), fallback)
    credential.validate()
    return credential, fallback


def test_refreshable_uses_the_given_token_first(clock):
    credential, fallback = refreshable(clock, NOW + 3600)
    assert credential.get_token().source == "given"
    assert fallback.acquired == []


def test_refreshable_falls_back_when_the_given_token_is_already_expired(clock):
    credential, fallback = refreshable(clock, NOW - 1)
    assert credential.get_token().token == "fresh-1"
    assert fallback.acquired == [False]


def test_refreshable_falls_back_when_the_given_token_is_rejected(clock):
    credential, fallback = refreshable(clock, NOW + 3600)
    assert credential.get_token(force_refresh=True).token == "fresh-1"
    # The rejected token is dropped for good.
    assert credential.get_token().token == "fresh-1"
    assert fallback.acquired == [True]


def test_refreshable_falls_back_when_the_given_token_expires_during_the_run(clock):
    credential, fallback = refreshable(clock, NOW + 60)
    assert credential.get_token().source == "given"
    clock.now += 120
    assert credential.get_token().token == "fresh-1"
    assert fallback.acquired == [False]


# ---------------------------------------------------------------------------------------------------
# MSAL results, with a stand-in for the ConfidentialClientApplication


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


def test_msal_success(monkeypatch, clock):
    app = FakeApp({"access_token": "msal-token", "expires_in": 1800, "token_source": "cache"})
    token = secret_credential(monkeypatch, app).get_token()
    assert token.token == "msal-token"
    assert token.expires_on == NOW + 1800
    assert token.source == "cache"
    assert app.calls == [("https://graph.microsoft.com/.default",)]


def test_msal_force_refresh_empties_the_cache_first(monkeypatch, clock):
    app = FakeApp({"access_token": "msal-token", "expires_in": 1800})
    secret_credential(monkeypatch, app).get_token(force_refresh=True)
    assert app.calls[0] == "remove"


def test_msal_error_result_is_scrubbed_and_explained(monkeypatch):
    app = FakeApp({
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided: '%s'.\r\nTrace ID: abc\r\nCorrelation ID: def" % SECRET,
    })
    with pytest.raises(AuthError) as info:
        secret_credential(monkeypatch, app).get_token()
    text = str(info.value)
    assert SECRET not in text
    assert "********" in text
    assert "invalid_client" in text
    assert "client secret is wrong" in text
    assert "Trace ID" not in text


def test_msal_value_error_is_scrubbed(monkeypatch):
    app = FakeApp(error=ValueError("discovery failed for %s" % SECRET))
    with pytest.raises(AuthError) as info:
        secret_credential(monkeypatch, app).get_token()
    assert SECRET not in str(info.value)
    assert "discovery failed" in str(info.value)


class SSLError(Exception):
    """Named like requests' SSLError, which is what the translation looks at."""


def test_msal_tls_failure_points_at_ca_path(monkeypatch):
    with pytest.raises(AuthError) as info:
        secret_credential(monkeypatch, FakeApp(error=SSLError("certificate verify failed"))).get_token()
    text = str(info.value)
    assert "ca_path" in text
    assert "https://login.microsoftonline.com" in text


def test_msal_transport_failure_names_the_host(monkeypatch):
    with pytest.raises(AuthError) as info:
        secret_credential(monkeypatch, FakeApp(error=ConnectionError("refused %s" % SECRET))).get_token()
    text = str(info.value)
    assert "Could not reach the sign-in host https://login.microsoftonline.com" in text
    assert SECRET not in text


# ---------------------------------------------------------------------------------------------------
# describe_sign_in_error


@pytest.mark.parametrize(
    "code, words",
    [
        ("AADSTS7000215", "client secret is wrong"),
        ("AADSTS7000222", "expired"),
        ("AADSTS700016", "client_id"),
        ("AADSTS90002", "tenant_id"),
        ("AADSTS700027", "certificate"),
        ("AADSTS700024", "federated token"),
        ("AADSTS500011", "cloud"),
        ("AADSTS7000218", "AZURE_CLIENT_SECRET"),
        ("AADSTS700024", "AZURE_FEDERATED_TOKEN_FILE"),
        ("AADSTS70021", "issuer, subject and audience"),
        ("AADSTS700211", "issuer"),
        ("AADSTS700212", "api://AzureADTokenExchange"),
        ("AADSTS700213", "subject"),
        ("AADSTS5002738", "signature"),
    ],
)
def test_sign_in_hints(code, words):
    text = describe_sign_in_error({"error": "invalid_client", "error_description": "%s: something.\r\nTrace ID: 1" % code}, "app X")
    assert text.startswith("Sign-in as app X failed: invalid_client: %s: something." % code)
    assert words in text
    assert "Trace ID" not in text


def test_sign_in_error_without_a_known_code_has_no_hint():
    text = describe_sign_in_error({"error": "invalid_request", "error_description": "AADSTS50000: other"}, "app X")
    assert text == "Sign-in as app X failed: invalid_request: AADSTS50000: other"


@pytest.mark.parametrize("result", [{}, {"error": None, "error_description": None}, {"error_description": "   "}])
def test_sign_in_error_without_details(result):
    assert describe_sign_in_error(result, "app X") == "Sign-in as app X failed: unknown_error"


# ---------------------------------------------------------------------------------------------------
# jwt_claims


def test_jwt_claims_of_a_token():
    assert jwt_claims(make_jwt({"exp": 1, "scp": "Synchronization.ReadWrite.All"})) == {"exp": 1, "scp": "Synchronization.ReadWrite.All"}


@pytest.mark.parametrize(
    "token",
    [
        "",
        "opaque",
        "a.b.c",
        "a.!!!.c",
        "a.%s.c" % b64url(b"[1, 2]"),
        "a.%s.c" % b64url(b'"text"'),
        "a.%s.c" % b64url(b"\xff\xfe\xfd"),
        "a.%s.c" % b64url(b"{not json"),
        "a.\u00e9\u00e9.c",
        "a.x",
    ],
)
def test_jwt_claims_of_junk_is_empty(token):
    assert jwt_claims(token) == {}


@given(st.text(max_size=60))
def test_jwt_claims_never_raises_on_text(token):
    assert isinstance(jwt_claims(token), dict)


# ---------------------------------------------------------------------------------------------------
# Certificates


@pytest.fixture(scope="module")
def key_and_cert():
    # 1024 bits keeps key checks fast; the size does not matter to the code under test.
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "entra-sync-unit-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def sha1_of(cert):
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def key_pem(key, password=None):
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


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


# ---------------------------------------------------------------------------------------------------
# Federated token


def test_federated_token_is_read_at_each_sign_in(tmp_path):
    path = tmp_path / "token"
    path.write_text("assertion-1\n")
    credential = credential_from_settings(app_settings(federated_token_file=str(path)))
    assert isinstance(credential, FederatedTokenCredential)
    read = credential._client_credential()["client_assertion"]
    assert read() == "assertion-1"
    path.write_text("assertion-2")
    assert read() == "assertion-2"


@pytest.mark.parametrize("content, words", [(None, "cannot be read"), ("", "empty"), ("  \n", "empty")])
def test_federated_token_file_problems(tmp_path, content, words):
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    with pytest.raises(AuthError) as info:
        credential_from_settings(app_settings(federated_token_file=str(path)))
    assert words in str(info.value)
    assert str(path) in str(info.value)


def test_federated_assertion_never_reaches_an_error(monkeypatch, tmp_path):
    """An IdP that echoes the assertion (or an exception that holds it) must not put it in the task's message."""
    path = tmp_path / "token"
    path.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl\n")
    credential = credential_from_settings(app_settings(federated_token_file=str(path)))
    echoed = {"error": "invalid_client", "error_description": "AADSTS700024: assertion eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl expired"}
    monkeypatch.setattr(credential, "_app", lambda: FakeApp(echoed))
    with pytest.raises(AuthError) as info:
        credential.get_token()
    assert "eyJ" not in str(info.value) and "********" in str(info.value)
    assert "AZURE_FEDERATED_TOKEN_FILE" in str(info.value)
    monkeypatch.setattr(credential, "_app", lambda: FakeApp(error=ValueError("bad eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")))
    with pytest.raises(AuthError) as info:
        credential.get_token(force_refresh=True)
    assert "eyJ" not in str(info.value)

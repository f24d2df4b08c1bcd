"""TLS material for the server (a per-run trustme CA) and the `cert` app's client certificate."""

import datetime
import os
import ssl
from dataclasses import dataclass

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


def make_server_tls(state_dir):
    """Create a fresh CA, write ca.pem, and return an SSL context serving 127.0.0.1/localhost."""
    ca = trustme.CA(organization_name="entra sandbox")
    ca.cert_pem.write_to_path(os.path.join(state_dir, "ca.pem"))
    leaf = ca.issue_cert("127.0.0.1", "localhost", "::1")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(ctx)
    return ctx


@dataclass(frozen=True)
class ClientCertificate:
    pem_path: str
    pfx_path: str
    pfx_password: str
    thumbprint_sha1: str
    thumbprint_sha256: str
    public_key: object


def self_signed_certificate(common_name, key_size=2048, valid_days=365):
    """(RSA private key, self-signed certificate): the one certificate builder of the sandbox and the unit tests."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=valid_days))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_client_certificate(state_dir, common_name, password):
    """Self-signed RSA certificate for certificate credentials; writes cert.pem (key + cert) and cert.pfx."""
    key, cert = self_signed_certificate(common_name)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    pem_path = os.path.join(state_dir, "cert.pem")
    pfx_path = os.path.join(state_dir, "cert.pfx")
    with open(pem_path, "wb") as handle:
        handle.write(key_pem + cert_pem)
    pfx = pkcs12.serialize_key_and_certificates(
        common_name.encode(), key, cert, None, serialization.BestAvailableEncryption(password.encode()))
    with open(pfx_path, "wb") as handle:
        handle.write(pfx)
    return ClientCertificate(
        pem_path=pem_path,
        pfx_path=pfx_path,
        pfx_password=password,
        thumbprint_sha1=cert.fingerprint(hashes.SHA1()).hex(),
        thumbprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        public_key=key.public_key(),
    )

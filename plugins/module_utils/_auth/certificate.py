# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sign-in with an app registration's certificate: a PEM file (key + certificate) or a PFX/PKCS#12 file.
"""

import hashlib

from ansible_collections.entra.sync.plugins.module_utils._auth.confidential import ConfidentialClientCredential
from ansible_collections.entra.sync.plugins.module_utils.exceptions import AuthError


class CertificateCredential(ConfidentialClientCredential):
    """A certificate in a PEM file (key + certificate) or a PFX/PKCS#12 file; the thumbprint is computed here."""

    method = "certificate"

    def __init__(self, settings):
        super().__init__(settings)
        self._loaded = None

    def validate(self):
        super().validate()
        self._require("client_certificate_path")
        self._loaded = load_certificate(self.settings.client_certificate_path, self.settings.client_certificate_password)

    def describe(self):
        return "app %s (certificate) in tenant %s" % (self.settings.client_id, self.settings.tenant_id)

    def _client_credential(self):
        if self._loaded is None:
            self.validate()
        return dict(self._loaded)

    def _client_credential_identity(self):
        if self._loaded is None:
            self.validate()
        return (self.settings.client_certificate_path, self._loaded["thumbprint"])


def load_certificate(path, password):
    """Read a PEM (private key + certificate) or PFX file into MSAL's credential dict."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise AuthError("client_certificate_path %r cannot be read (%s): give a readable PEM or PFX file." % (path, exc.strerror)) from None
    try:
        # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:
        raise AuthError("The Python library cryptography is required for certificates: pip install msal (it brings cryptography).") from None
    secret = password.encode("utf-8") if password else None
    key, cert = _read_pem(path, data, secret) if b"-----BEGIN" in data else _read_pfx(path, data, secret)
    if not isinstance(key, rsa.RSAPrivateKey):
        kind = type(key).__name__.replace("PrivateKey", "").lstrip("_")
        raise AuthError("client_certificate_path %r holds a key of type %s: Entra ID app certificates must use an RSA key." % (path, kind))
    private_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    der = cert.public_bytes(serialization.Encoding.DER)
    return {
        "private_key": private_key.decode("ascii"),
        "thumbprint": hashlib.sha1(der).hexdigest(),  # nosec: the thumbprint Entra registers is SHA-1 by definition
        "public_certificate": cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    }


def _read_pem(path, data, secret):
    from cryptography import x509  # pylint: disable=import-outside-toplevel

    try:
        key = _load_pem_key(data, secret)
    except (ValueError, TypeError):
        raise AuthError(
            "client_certificate_path %r holds no private key that can be read: the PEM file needs the private key and the "
            "certificate; if the key is encrypted set client_certificate_password." % path
        ) from None
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise AuthError("client_certificate_path %r holds no certificate: append the certificate (PEM) after the private key." % path) from None
    return key, cert


def _read_pfx(path, data, secret):
    from cryptography.hazmat.primitives.serialization import pkcs12  # pylint: disable=import-outside-toplevel

    try:
        key, cert, dummy = pkcs12.load_key_and_certificates(data, secret)
    except (ValueError, TypeError):
        raise AuthError(
            "client_certificate_path %r is neither a PEM file nor a PFX file that opens with the given password: check the file "
            "and client_certificate_password." % path
        ) from None
    if key is None or cert is None:
        raise AuthError("client_certificate_path %r (PFX) must hold both the private key and the certificate." % path)
    return key, cert


def _load_pem_key(data, secret):
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

    try:
        return serialization.load_pem_private_key(data, password=secret)
    except TypeError:
        if secret is None:
            raise
        # A password left set (say a stray AZURE_CLIENT_CERTIFICATE_PASSWORD) for a key that is not encrypted.
        return serialization.load_pem_private_key(data, password=None)

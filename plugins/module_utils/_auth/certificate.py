# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sign-in with an app registration's certificate: a PEM file (key + certificate) or a PFX/PKCS#12 file.

MSAL gets the private key and the public certificate without a thumbprint, so it signs the assertion with PS256 and
the certificate's SHA-256 thumbprint (x5t#S256); the SHA-1 `thumbprint` form is deprecated.
"""

import hashlib
import re

from ansible_collections.entra.sync.plugins.module_utils._auth.confidential import ConfidentialClientCredential, import_msal
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError

# From this release on, MSAL computes the SHA-256 thumbprint from public_certificate when no thumbprint is given.
MSAL_SHA256_RELEASE = (1, 35)


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
        check_msal_release(getattr(import_msal("for certificates"), "__version__", "0"))
        return msal_client_credential(self._loaded)

    def _client_credential_identity(self):
        if self._loaded is None:
            self.validate()
        return (self.settings.client_certificate_path, self._loaded["thumbprint"])


def msal_client_credential(loaded):
    """MSAL's current certificate form: the key and the public certificate, from which it takes the SHA-256 thumbprint."""
    return {"private_key": loaded["private_key"], "public_certificate": loaded["public_certificate"]}


def check_msal_release(version):
    """Refuse an msal too old to sign with the SHA-256 thumbprint (it would need the deprecated SHA-1 one)."""
    release = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    if release < MSAL_SHA256_RELEASE:
        raise AuthError(
            "Certificates need msal %d.%d or newer, which signs with the certificate's SHA-256 thumbprint; msal %s is "
            "installed: pip install --upgrade 'msal>=%d.%d'." % (MSAL_SHA256_RELEASE + (version,) + MSAL_SHA256_RELEASE)
        )


def load_certificate(path, password):
    """Read a PEM (private key + certificate) or PFX file: its PEM private key, PEM certificate and SHA-1 thumbprint
    (the one the Azure portal shows, used here only to tell certificates apart)."""
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
        "thumbprint": hashlib.sha1(der).hexdigest(),  # nosec: identifies the certificate; MSAL signs with SHA-256
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

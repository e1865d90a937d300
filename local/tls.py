"""The emulator's TLS listener: what makes ``aws:SecureTransport`` true.

AWS sets ``aws:SecureTransport`` from the connection: true when the request came over TLS. The
emulator's main endpoint is plain HTTP (Terraform, the tests and the tools use it), so every
request there is plain HTTP to a policy, as it would be on AWS for a client that turned TLS off;
the same application is also served over HTTPS on a second port with a self-signed certificate,
and requests that arrive there are secure (``local.enforcement`` reads the scheme the server
saw, which no header can forge). The emulator publishes the endpoint and the certificate with its
others (``local/endpoints.py``) for clients (``verify=<cert>``).
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path


def self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    """A certificate and key for ``host`` (and localhost), made once per state directory."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "emulator-cert.pem", directory / "emulator-key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "local AWS emulator")])
    now = datetime.datetime.now(datetime.UTC)
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path

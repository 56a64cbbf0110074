"""X.509 material: CA certificates, issued leaves, service-generated CSRs and the TLS server certificate."""

import base64
import binascii
import datetime
import hashlib
import ipaddress
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .timestamps import utc_now

SIGNATURE_HASHES = {"SHA-256": hashes.SHA256, "SHA-384": hashes.SHA384, "SHA-512": hashes.SHA512}
MIN_RSA_BITS = 2048
ALLOWED_EC_CURVES = ("secp256r1", "secp384r1")


def new_rsa_key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def new_ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def private_key_pem(key):
    """Return the key as unencrypted PKCS#8 PEM text."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode("ascii")


def certificate_pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def certificate_der(certificate):
    return certificate.public_bytes(serialization.Encoding.DER)


def certhash(certificate):
    """Return the Certificate View certhash: the SHA-256 hex digest of the certificate's DER form."""
    return hashlib.sha256(certificate_der(certificate)).hexdigest()


def serial_hex(certificate):
    """Return the serial number as lowercase hex with an even number of digits."""
    digits = format(certificate.serial_number, "x")
    if len(digits) % 2:
        digits = "0" + digits
    return digits


def normalize_serial(text):
    """Return a serial number in the form serial_hex() produces, accepting colons and upper case."""
    digits = text.replace(":", "").replace(" ", "").lower().lstrip("0") or "0"
    if len(digits) % 2:
        digits = "0" + digits
    return digits


def build_name(common_name, organization=None, organization_units=(), country=None):
    attributes = []
    if country:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    for unit in organization_units:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def name_attribute(name, oid):
    values = name.get_attributes_for_oid(oid)
    return values[0].value if values else None


def make_ca_certificate(key, subject, issuer_certificate=None, issuer_key=None, days=3650, path_length=None):
    """Sign a CA certificate: self-signed when no issuer is given, else signed by the issuer."""
    now = utc_now()
    issuer_name = issuer_certificate.subject if issuer_certificate is not None else subject
    signing_key = issuer_key if issuer_key is not None else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    authority_key = issuer_certificate.public_key() if issuer_certificate is not None else key.public_key()
    builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def issue_leaf(issuer_certificate, issuer_key, public_key, subject, dns_names, not_before, not_after, hash_name="SHA-256"):
    """Sign a TLS server leaf certificate for the public key with the issuing CA."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=isinstance(public_key, rsa.RSAPublicKey),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_certificate.public_key()), critical=False)
    )
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]), critical=False)
    return builder.sign(issuer_key, SIGNATURE_HASHES[hash_name]())


def make_csr(common_name, organization=None, organization_units=(), dns_names=()):
    """Create an RSA 2048 key and a CSR signed with it, and return (key, csr)."""
    key = new_rsa_key(2048)
    builder = x509.CertificateSigningRequestBuilder().subject_name(build_name(common_name, organization, organization_units))
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]), critical=False)
    return key, builder.sign(key, hashes.SHA256())


def csr_pem(csr):
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


_PEM_CSR = re.compile(r"-----BEGIN (NEW )?CERTIFICATE REQUEST-----(?P<body>.*?)-----END (NEW )?CERTIFICATE REQUEST-----", re.S)


def parse_csr(text):
    """Parse and check a PEM CSR (or its bare base64 DER body), or raise ValueError with the reason.

    The CSR must carry a valid self-signature and an RSA key of at least 2048 bits or an EC key on
    P-256 or P-384.
    """
    match = _PEM_CSR.search(text)
    body = match.group("body") if match else text
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
        csr = x509.load_der_x509_csr(der)
    except (ValueError, binascii.Error):
        raise ValueError("not a parseable PEM certificate signing request") from None
    if not csr.is_signature_valid:
        raise ValueError("the CSR signature does not verify")
    public_key = csr.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            raise ValueError("RSA key of %d bits, at least %d are required" % (public_key.key_size, MIN_RSA_BITS))
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in ALLOWED_EC_CURVES:
            raise ValueError("EC curve %s is not accepted" % public_key.curve.name)
    else:
        raise ValueError("only RSA and EC keys are accepted")
    return csr


def csr_dns_names(csr):
    try:
        extension = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return extension.value.get_values_for_type(x509.DNSName)


def key_size(public_key):
    return getattr(public_key, "key_size", None)


def signature_algorithm_name(certificate):
    """Return the JCA-style signature algorithm name, for example SHA256withRSA."""
    hash_name = certificate.signature_hash_algorithm.name.replace("-", "").upper()
    family = "RSA" if isinstance(certificate.public_key(), rsa.RSAPublicKey) else "ECDSA"
    return "%swith%s" % (hash_name, family)


def make_tls_material(hosts):
    """Create a TLS CA and a server certificate for the hosts, and return (ca_certificate, server_certificate, server_key).

    Each host becomes a DNS name, and also an IP address entry when it parses as one, so that
    clients which check IP addresses against iPAddress entries accept https://127.0.0.1.
    """
    ca_key = new_ec_key()
    ca_certificate = make_ca_certificate(ca_key, build_name("CertView Simulator TLS CA", "CertView Simulator"), days=825, path_length=0)
    server_key = new_ec_key()
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    now = utc_now()
    server_certificate = (
        x509.CertificateBuilder()
        .subject_name(build_name("localhost", "CertView Simulator"))
        .issuer_name(ca_certificate.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_certificate, server_certificate, server_key

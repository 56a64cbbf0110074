"""Fixture data: users, DigiCert catalog, the CA hierarchy and the certificates seeded into the inventory.

Tests, the role and the README rely on these names and values, so change them only together.
"""

import dataclasses
import datetime
from typing import Optional

from cryptography import x509

from . import crypto
from .timestamps import utc_now

# Actions a route needs permission for, granted per role.
CREATE, UPDATE, VIEW, LIST, CHANGE_STATUS = "create", "update", "view", "list", "change_status"
ROLE_PERMISSIONS = {
    "requester": frozenset({CREATE, UPDATE, VIEW, LIST}),
    "approver": frozenset({CREATE, UPDATE, VIEW, LIST, CHANGE_STATUS}),
    "manager": frozenset({CREATE, UPDATE, VIEW, LIST, CHANGE_STATUS}),
    "pki_admin": frozenset({CREATE, UPDATE, VIEW, LIST, CHANGE_STATUS}),
    "reader": frozenset({VIEW, LIST}),
}
# Roles that approverUserNames may name.
APPROVER_ROLES = frozenset({"approver", "manager", "pki_admin"})


@dataclasses.dataclass(frozen=True)
class User:
    username: str
    password: str
    role: str
    api_access: bool = True


USERS = {
    user.username: user
    for user in (
        User("requester", "requester-pass", "requester"),
        User("approver", "approver-pass", "approver"),
        User("manager", "manager-pass", "manager"),
        User("pkiadmin", "pkiadmin-pass", "pki_admin"),
        User("nolicense", "nolicense-pass", "requester", api_access=False),
        User("auditor", "auditor-pass", "reader"),
    )
}


@dataclasses.dataclass(frozen=True)
class Product:
    name_id: str
    name: str
    group_name: str
    type: str
    wildcard: bool = False
    extended_validation: bool = False

    def to_api(self):
        return {"groupName": self.group_name, "nameId": self.name_id, "name": self.name, "type": self.type, "sslCertificateType": None}


PRODUCTS = {
    product.name_id: product
    for product in (
        Product("private_ssl_plus", "Private SSL Plus", "private_ssl_certificate", "ssl_certificate"),
        Product("ssl_plus", "Standard SSL", "ssl_certificate", "ssl_certificate"),
        Product("ssl_wildcard", "Wildcard SSL", "ssl_certificate", "ssl_certificate", wildcard=True),
        Product("ssl_ev_securesite", "Secure Site EV SSL", "securesite_ssl_certificate", "ssl_certificate", extended_validation=True),
        Product("ssl_ev_securesite_multi_domain", "Secure Site EV Multi-Domain SSL", "securesite_ssl_certificate", "ssl_certificate", extended_validation=True),
    )
}

ORGANIZATIONS = (
    {"id": 525858, "status": "active", "name": "Qualys, Inc", "assumedName": None, "displayName": "Qualys, Inc", "active": True},
    {"id": 612345, "status": "active", "name": "Example Corp", "assumedName": None, "displayName": "Example Corp", "active": True},
    {"id": 700001, "status": "inactive", "name": "Dormant Holdings LLC", "assumedName": None, "displayName": "Dormant Holdings LLC", "active": False},
)
ORGANIZATIONS_BY_ID = {organization["id"]: organization for organization in ORGANIZATIONS}

EV_APPROVERS = (
    {"userId": "1541521", "name": "John White", "firstName": "John", "lastName": "White"},
    {"userId": "1551253", "name": "Kelly Smith", "firstName": "Kelly", "lastName": "Smith"},
)
EV_APPROVER_IDS = frozenset(approver["userId"] for approver in EV_APPROVERS)

ISSUING_CA_NAME = "DigiCert Test SHA2 Intermediate CA-1"
UNCONFIGURED_CA_NAME = "DigiCert Unconfigured Intermediate CA"
PRIVATE_CA_NAME = "Example Private Issuing CA"


@dataclasses.dataclass
class CertificateAuthority:
    """A CA certificate with its key and how Certificate View treats it for enrollment."""

    common_name: str
    certificate: x509.Certificate
    key: object
    digicert: bool
    api_key_configured: bool
    parent: Optional["CertificateAuthority"] = None

    @property
    def certhash(self):
        return crypto.certhash(self.certificate)

    @property
    def serial_number(self):
        return crypto.serial_hex(self.certificate)

    def to_admin(self):
        return {
            "commonName": self.common_name,
            "certhash": self.certhash,
            "serialNumber": self.serial_number,
            "digicert": self.digicert,
            "apiKeyConfigured": self.api_key_configured,
            "pem": crypto.certificate_pem(self.certificate),
        }


@dataclasses.dataclass
class SeedCertificate:
    """A certificate put into the inventory on every reset."""

    certificate: x509.Certificate
    cert_type: str
    issuer: Optional[CertificateAuthority]
    renewal_status: Optional[str] = None


class Pki:
    """The simulator's CA hierarchy and seed certificates, generated once per server.

    Two roots sign three intermediate CAs: the DigiCert test intermediate that signs every issued
    certificate (API key configured), a DigiCert intermediate without an API key and a private CA.
    Reset keeps all of these keys and certificates.
    """

    def __init__(self):
        now = utc_now()
        digicert_root_key = crypto.new_rsa_key()
        digicert_root = CertificateAuthority(
            "DigiCert Test Root CA",
            crypto.make_ca_certificate(digicert_root_key, crypto.build_name("DigiCert Test Root CA", "DigiCert Inc", country="US"), days=7300),
            digicert_root_key,
            digicert=True,
            api_key_configured=False,
        )
        private_root_key = crypto.new_ec_key()
        private_root = CertificateAuthority(
            "Example Private Root CA",
            crypto.make_ca_certificate(private_root_key, crypto.build_name("Example Private Root CA", "Example Corp"), days=7300),
            private_root_key,
            digicert=False,
            api_key_configured=False,
        )
        self.roots = [digicert_root, private_root]
        self.issuing_ca = self._intermediate(ISSUING_CA_NAME, "DigiCert Inc", digicert_root, crypto.new_rsa_key(), digicert=True, api_key_configured=True)
        self.intermediates = [
            self.issuing_ca,
            self._intermediate(UNCONFIGURED_CA_NAME, "DigiCert Inc", digicert_root, crypto.new_ec_key(), digicert=True, api_key_configured=False),
            self._intermediate(PRIVATE_CA_NAME, "Example Corp", private_root, crypto.new_ec_key(), digicert=False, api_key_configured=False),
        ]
        self.seed_certificates = [SeedCertificate(ca.certificate, "Root", None) for ca in self.roots]
        self.seed_certificates += [SeedCertificate(ca.certificate, "Intermediate", ca.parent) for ca in self.intermediates]
        self.seed_certificates += [
            self._seed_leaf("expiring.example.com", now, valid_for_days=30),
            self._seed_leaf("fresh.example.com", now, valid_for_days=300),
            self._seed_leaf("renewing.example.com", now, valid_for_days=20, renewal_status="IN_RENEWAL"),
        ]

    @staticmethod
    def _intermediate(common_name, organization, parent, key, digicert, api_key_configured):
        subject = crypto.build_name(common_name, organization, country="US")
        certificate = crypto.make_ca_certificate(key, subject, parent.certificate, parent.key, days=3650, path_length=0)
        return CertificateAuthority(common_name, certificate, key, digicert, api_key_configured, parent)

    def _seed_leaf(self, common_name, now, valid_for_days, renewal_status=None):
        key = crypto.new_ec_key()
        not_after = now + datetime.timedelta(days=valid_for_days)
        certificate = crypto.issue_leaf(
            self.issuing_ca.certificate,
            self.issuing_ca.key,
            key.public_key(),
            crypto.build_name(common_name, "Example Corp", ["Web"]),
            [common_name],
            not_after - datetime.timedelta(days=365),
            not_after,
        )
        return SeedCertificate(certificate, "Leaf", self.issuing_ca, renewal_status)

    def chain_pem(self):
        """Return the issuing intermediate and its root as PEM, the chain of every issued certificate."""
        return crypto.certificate_pem(self.issuing_ca.certificate) + crypto.certificate_pem(self.issuing_ca.parent.certificate)

    def find_ca(self, certhash=None, common_name=None, serial_number=None):
        """Return the intermediate CA that every given key matches, or None."""
        for ca in self.intermediates:
            if certhash is not None and certhash.replace(":", "").lower() != ca.certhash:
                continue
            if common_name is not None and common_name != ca.common_name:
                continue
            if serial_number is not None and crypto.normalize_serial(serial_number) != ca.serial_number:
                continue
            return ca
        return None

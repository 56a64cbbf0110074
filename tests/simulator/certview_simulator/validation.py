"""Validation of request bodies, in the order the service reports problems.

Order bodies (create and full-body update) are checked stage by stage, and the first failing
stage decides the response:

1. 140001 the body is not a JSON object;
2. 1903 every missing required parameter, all listed in one text;
3. 1922 a group needing at least one member is empty (intermediateCA keys, then validity);
4. 1904 validity has more than one member;
5. 1907 autoGenerateCSR true together with an encodedCSR;
6. 1905 the first invalid value, in field order;
7. update only: 140007 enrollment/renewal type changed, 140002 a field that cannot be edited changed;
8. 140004 / 140005 the CA is not a DigiCert public intermediate or has no API key;
9. 140006 the renewed certificate is not eligible.

The license limit (148101) depends on the stored orders, so the state checks it afterwards.
"""

import dataclasses
import datetime
import json
import re
from typing import List, Optional

from . import crypto, fixtures
from .errors import (
    CA_API_KEY_MISSING,
    CA_NOT_SUPPORTED,
    FIELD_NOT_EDITABLE,
    INVALID_RENEWAL,
    MALFORMED_JSON,
    ORDER_TYPE_NOT_EDITABLE,
    UNSUPPORTED_COMBINATION,
    ApiError,
    at_least_one_of,
    invalid_value,
    missing_parameters,
    only_one_of,
    standard_error,
)
from .orders import REQUESTABLE_STATUSES
from .timestamps import format_timestamp, parse_date_or_time

CA_KEYS = ("certhash", "commonName", "serialNumber")
VALIDITY_KEYS = ("customExpirationDate", "validityYears", "validityDays")
SIGNATURE_HASHES = ("SHA-256", "SHA-384", "SHA-512")
MAX_VALIDITY_YEARS = 3
MAX_VALIDITY_DAYS = 397
# NOTE: the Certificate View 2.7 release notes give no limit for customExpirationDate, so the simulator applies the validityYears maximum.
MAX_CUSTOM_EXPIRATION = datetime.timedelta(days=3 * 366)
RENEWAL_WINDOW = datetime.timedelta(days=60)
MAX_ORGANIZATION_UNIT_LENGTH = 64

_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_CERTHASH = re.compile(r"^[0-9a-fA-F]{64}$")


def _reject_constant(name):
    raise ValueError("JSON does not allow %s" % name)


def parse_json_object(data):
    """Decode a request body that must be a JSON object, or raise 140001."""
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        raise standard_error(400, MALFORMED_JSON) from None
    if not isinstance(value, dict):
        raise standard_error(400, MALFORMED_JSON, "the body must be a JSON object")
    return value


def _absent(value):
    return value is None or value == "" or value == []


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_string_list(value):
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def given_ca_keys(keys):
    """Return the CA keys with a non-null value, in the order certhash, commonName, serialNumber."""
    return {name: keys[name] for name in CA_KEYS if keys.get(name) is not None}


def find_ca(pki, keys, prefix):
    """Return the intermediate CA that all given keys name, or raise 1905 when the keys are invalid or match none."""
    given_keys = given_ca_keys(keys)
    for name, value in given_keys.items():
        if not isinstance(value, str) or not value.strip():
            raise invalid_value(prefix + name, value)
    ca = pki.find_ca(certhash=given_keys.get("certhash"), common_name=given_keys.get("commonName"), serial_number=given_keys.get("serialNumber"))
    if ca is None:
        described = ", ".join("%s=%s" % item for item in given_keys.items())
        raise invalid_value("intermediateCA", described, "no intermediate CA in the inventory matches all given keys")
    return ca


def check_ca_enrollment(ca):
    """Raise 140004 unless the CA is a DigiCert intermediate, and 140005 unless its API key is configured."""
    if not ca.digicert:
        raise standard_error(400, CA_NOT_SUPPORTED, ca.common_name)
    if not ca.api_key_configured:
        raise standard_error(400, CA_API_KEY_MISSING, ca.common_name)


def validate_ca_lookup(pki, body):
    """Validate the body of a list call (organizations, products, EV approvers) and return its CA."""
    if not given_ca_keys(body):
        raise at_least_one_of(CA_KEYS)
    ca = find_ca(pki, body, "")
    check_ca_enrollment(ca)
    return ca


def validate_status_change(body):
    """Validate a status-change body and return (status, comment)."""
    missing = [name for name in ("status", "comment") if _absent(body.get(name))]
    if missing:
        raise missing_parameters(missing)
    status, comment = body["status"], body["comment"]
    if status not in REQUESTABLE_STATUSES:
        raise invalid_value("status", status, "one of " + ", ".join(REQUESTABLE_STATUSES))
    if not isinstance(comment, str):
        raise invalid_value("comment", comment)
    return status, comment


def hostname_problem(name):
    """Return why the name is not a fully qualified DNS name (a leading "*." allowed), or None."""
    if len(name) > 253:
        return "longer than 253 characters"
    labels = name.lower().split(".")
    if labels[0] == "*":
        labels = labels[1:]
    if len(labels) < 2:
        return "not a fully qualified domain name"
    if not all(_DNS_LABEL.match(label) for label in labels):
        return "not a valid DNS name"
    if labels[-1].isdigit():
        return "IP addresses are not accepted"
    return None


@dataclasses.dataclass
class OrderRequest:
    """A validated create or update body."""

    approver_user_names: List[str]
    ca: fixtures.CertificateAuthority
    common_name: str
    organization_units: Optional[List[str]]
    signature_hash: str
    auto_generate_csr: bool
    csr: Optional[object]
    csr_pem: Optional[str]
    renewal: Optional[dict]
    validity: dict
    organization: dict
    product: fixtures.Product
    ev_approver_user_ids: Optional[List[str]]
    comment: Optional[str]


class OrderValidator:
    """Check an order body against the catalog, the inventory and, for an update, the stored order.

    find_certificate maps a certhash to its InventoryItem (or None). existing is the stored Order for
    an update and None for a create.
    """

    def __init__(self, pki, find_certificate, now, existing=None):
        self.pki = pki
        self.find_certificate = find_certificate
        self.now = now
        self.existing = existing

    def validate(self, body):
        certificate = body.get("certificate")
        certificate = certificate if isinstance(certificate, dict) else None
        csr = certificate.get("csr") if certificate is not None else None
        csr = csr if isinstance(csr, dict) else None
        self._check_required(body, certificate, csr)
        self._check_groups(body)
        self._check_combinations(csr)
        request = self._check_values(body)
        if self.existing is not None:
            self._check_editable(request)
        check_ca_enrollment(request.ca)
        if request.renewal is not None:
            self._check_renewal(request.renewal["renewalOfCertificate"])
        return request

    def _check_required(self, body, certificate, csr):
        missing = []
        for name in ("approverUserNames", "intermediateCA", "certificate"):
            if _absent(body.get(name)):
                missing.append(name)
        if certificate is not None:
            if _absent(certificate.get("commonName")):
                missing.append("certificate.commonName")
            if _absent(certificate.get("csr")):
                missing.append("certificate.csr")
            elif csr is not None:
                auto_generate = csr.get("autoGenerateCSR")
                # A non-boolean autoGenerateCSR is reported as an invalid value later, not as a missing CSR.
                if auto_generate in (None, False) and _absent(csr.get("encodedCSR")):
                    missing.append("certificate.csr.encodedCSR")
            if _absent(certificate.get("signatureHash")):
                missing.append("certificate.signatureHash")
        renewal = body.get("renewal")
        if isinstance(renewal, dict):
            for name in ("digicertPreviousOrderId", "renewalOfCertificate"):
                if _absent(renewal.get(name)):
                    missing.append("renewal." + name)
        for name in ("validity", "digicertOrganizationId", "digicertProductNameId"):
            if _absent(body.get(name)):
                missing.append(name)
        product_id = body.get("digicertProductNameId")
        product = fixtures.PRODUCTS.get(product_id) if isinstance(product_id, str) else None
        if product is not None and product.extended_validation and _absent(body.get("digicertEVApproverUserIds")):
            missing.append("digicertEVApproverUserIds")
        if missing:
            raise missing_parameters(missing)

    @staticmethod
    def _check_groups(body):
        ca_keys = body.get("intermediateCA")
        if isinstance(ca_keys, dict) and not given_ca_keys(ca_keys):
            raise at_least_one_of(["intermediateCA." + name for name in CA_KEYS])
        validity = body.get("validity")
        if isinstance(validity, dict):
            set_fields = [name for name in VALIDITY_KEYS if validity.get(name) is not None]
            if not set_fields:
                raise at_least_one_of(["validity." + name for name in VALIDITY_KEYS])
            if len(set_fields) > 1:
                raise only_one_of(["validity." + name for name in set_fields])

    @staticmethod
    def _check_combinations(csr):
        if csr is not None and csr.get("autoGenerateCSR") is True and csr.get("encodedCSR") is not None:
            raise ApiError(
                400,
                UNSUPPORTED_COMBINATION,
                "The following combination of key=value pairs is not supported: certificate.csr.autoGenerateCSR=true, certificate.csr.encodedCSR is not null",
            )

    def _check_values(self, body):
        approvers = self._check_approvers(body["approverUserNames"])
        ca_keys = body["intermediateCA"]
        if not isinstance(ca_keys, dict):
            raise invalid_value("intermediateCA", ca_keys)
        ca = find_ca(self.pki, ca_keys, "intermediateCA.")
        common_name, units, auto_generate, csr, csr_text, signature_hash = self._check_certificate(body["certificate"])

        renewal = self._check_renewal_values(body.get("renewal"))
        validity = self._check_validity(body["validity"])
        organization = self._check_organization(body["digicertOrganizationId"])
        product = self._check_product(body["digicertProductNameId"], common_name)
        ev_ids = self._check_ev_approvers(body.get("digicertEVApproverUserIds"))
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise invalid_value("comment", comment)

        return OrderRequest(
            approver_user_names=approvers,
            ca=ca,
            common_name=common_name,
            organization_units=units,
            signature_hash=signature_hash,
            auto_generate_csr=auto_generate,
            csr=csr,
            csr_pem=csr_text,
            renewal=renewal,
            validity=validity,
            organization=organization,
            product=product,
            ev_approver_user_ids=ev_ids,
            comment=comment,
        )

    def _check_certificate(self, certificate):
        """Check the certificate object and return (common_name, units, auto_generate, csr, csr_text, signature_hash)."""
        if not isinstance(certificate, dict):
            raise invalid_value("certificate", certificate)
        common_name = certificate["commonName"]
        if not isinstance(common_name, str):
            raise invalid_value("certificate.commonName", common_name)
        problem = hostname_problem(common_name)
        if problem:
            raise invalid_value("certificate.commonName", common_name, problem)
        units = self._check_organization_units(certificate.get("organizationUnits"))
        auto_generate, csr, csr_text = self._check_csr(certificate["csr"])
        signature_hash = certificate["signatureHash"]
        if signature_hash not in SIGNATURE_HASHES:
            raise invalid_value("certificate.signatureHash", signature_hash, "accepted values: " + ", ".join(SIGNATURE_HASHES))
        return common_name, units, auto_generate, csr, csr_text, signature_hash

    @staticmethod
    def _check_approvers(names):
        if not _is_string_list(names):
            raise invalid_value("approverUserNames", names, "an array of user names")
        for name in names:
            user = fixtures.USERS.get(name)
            if user is None:
                raise invalid_value("approverUserNames", name, "no such user")
            if user.role not in fixtures.APPROVER_ROLES:
                raise invalid_value("approverUserNames", name, "the user's role must be approver, manager or PKI admin")
        return list(names)

    @staticmethod
    def _check_organization_units(units):
        if units is None:
            return None
        if not _is_string_list(units):
            raise invalid_value("certificate.organizationUnits", units, "an array of strings")
        for unit in units:
            if not unit.strip() or len(unit) > MAX_ORGANIZATION_UNIT_LENGTH:
                raise invalid_value("certificate.organizationUnits", unit, "1 to %d characters" % MAX_ORGANIZATION_UNIT_LENGTH)
        return list(units)

    @staticmethod
    def _check_csr(csr):
        if not isinstance(csr, dict):
            raise invalid_value("certificate.csr", csr)
        auto_generate = csr.get("autoGenerateCSR")
        if auto_generate is not None and not isinstance(auto_generate, bool):
            raise invalid_value("certificate.csr.autoGenerateCSR", auto_generate, "true or false")
        if auto_generate:
            return True, None, None
        text = csr.get("encodedCSR")
        if not isinstance(text, str):
            raise invalid_value("certificate.csr.encodedCSR", text)
        try:
            parsed = crypto.parse_csr(text)
        except ValueError as error:
            raise invalid_value("certificate.csr.encodedCSR", text, str(error)) from None
        return False, parsed, crypto.csr_pem(parsed)

    @staticmethod
    def _check_renewal_values(renewal):
        if renewal is None:
            return None
        if not isinstance(renewal, dict):
            raise invalid_value("renewal", renewal)
        previous = renewal["digicertPreviousOrderId"]
        if not _is_int(previous) or previous <= 0:
            raise invalid_value("renewal.digicertPreviousOrderId", previous, "a positive integer")
        certhash = renewal["renewalOfCertificate"]
        if not isinstance(certhash, str) or not _CERTHASH.match(certhash):
            raise invalid_value("renewal.renewalOfCertificate", certhash, "the certhash of a certificate: 64 hex digits")
        return {"digicertPreviousOrderId": previous, "renewalOfCertificate": certhash.lower()}

    def _check_validity(self, validity):
        if not isinstance(validity, dict):
            raise invalid_value("validity", validity)
        years, days, expiration = validity.get("validityYears"), validity.get("validityDays"), validity.get("customExpirationDate")
        if years is not None and (not _is_int(years) or not 1 <= years <= MAX_VALIDITY_YEARS):
            raise invalid_value("validity.validityYears", years, "an integer from 1 to %d" % MAX_VALIDITY_YEARS)
        if days is not None and (not _is_int(days) or not 1 <= days <= MAX_VALIDITY_DAYS):
            raise invalid_value("validity.validityDays", days, "an integer from 1 to %d" % MAX_VALIDITY_DAYS)
        if expiration is not None:
            parsed = parse_date_or_time(expiration)
            if parsed is None:
                raise invalid_value("validity.customExpirationDate", expiration, "a date YYYY-MM-DD or an ISO 8601 time")
            moment, date_only = parsed
            in_future = moment.date() > self.now.date() if date_only else moment > self.now
            if not in_future:
                raise invalid_value("validity.customExpirationDate", expiration, "the date must be in the future")
            if moment - self.now > MAX_CUSTOM_EXPIRATION:
                raise invalid_value("validity.customExpirationDate", expiration, "at most %d years ahead" % MAX_VALIDITY_YEARS)
        return {"validityYears": years, "validityDays": days, "customExpirationDate": expiration}

    @staticmethod
    def _check_organization(organization_id):
        if not _is_int(organization_id):
            raise invalid_value("digicertOrganizationId", organization_id, "an integer")
        organization = fixtures.ORGANIZATIONS_BY_ID.get(organization_id)
        if organization is None:
            raise invalid_value("digicertOrganizationId", organization_id, "no such organization")
        if not organization["active"]:
            raise invalid_value("digicertOrganizationId", organization_id, "the organization is inactive")
        return organization

    @staticmethod
    def _check_product(name_id, common_name):
        product = fixtures.PRODUCTS.get(name_id) if isinstance(name_id, str) else None
        if product is None:
            raise invalid_value("digicertProductNameId", name_id, "no such product")
        wildcard_name = common_name.startswith("*.")
        if product.wildcard and not wildcard_name:
            raise invalid_value("certificate.commonName", common_name, "product %s needs a wildcard common name such as *.example.com" % name_id)
        if wildcard_name and not product.wildcard:
            raise invalid_value("certificate.commonName", common_name, "a wildcard common name needs a wildcard product")
        return product

    @staticmethod
    def _check_ev_approvers(ids):
        if ids is None:
            return None
        if not _is_string_list(ids):
            raise invalid_value("digicertEVApproverUserIds", ids, "an array of user id strings")
        for user_id in ids:
            if user_id not in fixtures.EV_APPROVER_IDS:
                raise invalid_value("digicertEVApproverUserIds", user_id, "no such EV approver")
        return list(ids)

    def _check_editable(self, request):
        existing = self.existing
        if existing.is_renewal != (request.renewal is not None):
            raise standard_error(400, ORDER_TYPE_NOT_EDITABLE, "the order is %s" % ("a renewal" if existing.is_renewal else "an enrollment"))
        if request.ca.certhash != existing.ca_certhash:
            raise standard_error(400, FIELD_NOT_EDITABLE, "intermediateCA")
        if request.renewal is not None and request.renewal["renewalOfCertificate"] != existing.renewal["renewalOfCertificate"]:
            raise standard_error(400, FIELD_NOT_EDITABLE, "renewal.renewalOfCertificate")
        if request.auto_generate_csr and not existing.auto_generated_csr:
            # A new service-generated key could never reach the client, because update responses carry no private key.
            raise standard_error(400, FIELD_NOT_EDITABLE, "certificate.csr.autoGenerateCSR")

    def _check_renewal(self, certhash):
        item = self.find_certificate(certhash)
        if item is None:
            raise standard_error(400, INVALID_RENEWAL, "certificate %s is not in the inventory" % certhash)
        if item.cert_type != "Leaf":
            raise standard_error(400, INVALID_RENEWAL, "certificate %s is not a leaf certificate (type %s)" % (certhash, item.cert_type))
        renewed_by_this_order = self.existing is not None and item.renewal_order == self.existing.uuid
        if item.renewal_status is not None and not renewed_by_this_order:
            raise standard_error(400, INVALID_RENEWAL, "certificate %s is already %s" % (certhash, item.renewal_status))
        if item.not_after - self.now > RENEWAL_WINDOW:
            raise standard_error(400, INVALID_RENEWAL, "certificate %s expires %s, more than 60 days from now" % (certhash, format_timestamp(item.not_after)))

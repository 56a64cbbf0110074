# -*- coding: utf-8 -*-
# Copyright (c) qualys.certview contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Translate between module options and Certificate View order fields.

The modules speak snake_case options; the API speaks camelCase JSON. Every
mapping between the two lives here, together with the comparison that decides
whether an order already matches the options of a task.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import re

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

SIGNATURE_HASHES = ("SHA-256", "SHA-384", "SHA-512")

# Statuses in which the API accepts an edit of the order. The API reference
# names POSTED as the first status that rejects edits (409, code 1920). An
# approved order is already on its way to the CA, so it counts as not editable.
EDITABLE_STATUSES = ("SUBMITTED",)

# Each order option with its place in the request body of a create or update.
REQUEST_PATHS = {
    "approver_user_names": ("approverUserNames",),
    "common_name": ("certificate", "commonName"),
    "organization_units": ("certificate", "organizationUnits"),
    "signature_hash": ("certificate", "signatureHash"),
    "csr": ("certificate", "csr", "encodedCSR"),
    "auto_generate_csr": ("certificate", "csr", "autoGenerateCSR"),
    "validity_years": ("validity", "validityYears"),
    "validity_days": ("validity", "validityDays"),
    "custom_expiration_date": ("validity", "customExpirationDate"),
    "organization_id": ("digicertOrganizationId",),
    "product_name_id": ("digicertProductNameId",),
    "ev_approver_user_ids": ("digicertEVApproverUserIds",),
    "renewal_of_certificate": ("renewal", "renewalOfCertificate"),
    "previous_order_id": ("renewal", "digicertPreviousOrderId"),
    "comment": ("comment",),
}

INTERMEDIATE_CA_KEYS = {
    "certhash": "certhash",
    "common_name": "commonName",
    "serial_number": "serialNumber",
}

VALIDITY_OPTIONS = ("validity_years", "validity_days", "custom_expiration_date")
RENEWAL_OPTIONS = ("renewal_of_certificate", "previous_order_id")

# Options an order view does not return. They are sent but never compared:
# the view has no comment, and autoGenerateCSR only matters when an order is
# created.
UNCOMPARED_OPTIONS = ("comment", "auto_generate_csr")

# Options a create request needs, with the alternatives that satisfy each.
CREATE_REQUIRED = (
    ("common_name",),
    ("approver_user_names",),
    ("intermediate_ca",),
    ("signature_hash",),
    ("organization_id",),
    ("product_name_id",),
    ("csr", "auto_generate_csr"),
    VALIDITY_OPTIONS,
)

ORDER_OPTIONS = tuple(REQUEST_PATHS) + ("intermediate_ca",)

_CERTHASH = re.compile(r"^[0-9A-Fa-f]{64}$")
_HASH_NAME = re.compile(r"^SHA[-_ ]?(256|384|512)$")
_UUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
# A DNS name in ASCII, optionally a wildcard: labels of letters, digits, "-" and "_".
_DNS_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_COMMON_NAME = re.compile(r"^(?:\*\.)?%s(?:\.%s)*$" % (_DNS_LABEL, _DNS_LABEL))
# YYYY-MM-DD, optionally followed by a time and an offset with or without a colon.
_EXPIRATION_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")


def intermediate_ca_argument_spec(required=False):
    """Return the argument spec of the intermediate_ca option, which every module takes."""
    return dict(
        type="dict",
        required=required,
        options=dict(certhash=dict(type="str"), common_name=dict(type="str"), serial_number=dict(type="str")),
        required_one_of=[("certhash", "common_name", "serial_number")],
    )


class OrderInputError(ValueError):
    """An order option has a value the API would reject."""


def normalize_signature_hash(value):
    """Return the API spelling of a hash name given in any case or dash form."""
    match = _HASH_NAME.match(value.strip().upper())
    if not match:
        raise OrderInputError(
            "Invalid value %r for option signature_hash: use one of %s." % (value, ", ".join(SIGNATURE_HASHES))
        )
    return "SHA-" + match.group(1)


def parse_expiration_date(value):
    """Return a date from YYYY-MM-DD or an ISO 8601 timestamp (with or without a colon in the offset)."""
    text = str(value).strip()
    match = _EXPIRATION_DATE.match(text)
    if not match:
        raise ValueError(text)
    return datetime.datetime.strptime(match.group(1), "%Y-%m-%d").date()


def validate_uuid(value):
    """Return an order uuid, or raise OrderInputError when it is not in the canonical UUID form."""
    if value is None or not _UUID.match(value.strip()):
        raise OrderInputError(
            "Invalid value %r for option uuid: use the uuid of an order as Certificate View returns it, "
            "such as cb95d100-ec30-11ea-920d-eb66140967e3." % value
        )
    return value.strip()


def validate_intermediate_ca(certificate_authority, option="intermediate_ca"):
    """Check the suboptions of an intermediate_ca option: no blank value, and a certhash of 64 hex characters."""
    for key in INTERMEDIATE_CA_KEYS:
        value = certificate_authority.get(key)
        if value is not None and not value.strip():
            raise OrderInputError("Option %s.%s is empty: give a value or leave the suboption out." % (option, key))
    certhash = certificate_authority.get("certhash")
    if certhash is not None and not _CERTHASH.match(certhash):
        raise OrderInputError(
            "Invalid value %r for option %s.certhash: it must be the 64 hexadecimal characters of a SHA-256 hash." % (certhash, option)
        )


def validate_order_options(params, creating, today=None):
    """Check order options before any request and return them normalized.

    Raises OrderInputError naming the option, the value and the fix.
    """
    result = dict((name, params.get(name)) for name in ORDER_OPTIONS)
    if creating:
        missing = [" or ".join(group) for group in CREATE_REQUIRED if all(_is_unset(result.get(name)) for name in group)]
        if missing:
            raise OrderInputError(
                "Missing required options to create an order: %s. Set them, or set uuid to manage an existing order." % ", ".join(missing)
            )
        if result.get("auto_generate_csr") is False and _is_unset(result.get("csr")):
            raise OrderInputError("Option auto_generate_csr is false and csr is not set: give the PEM CSR in csr, or set auto_generate_csr to true.")

    if result.get("signature_hash") is not None:
        result["signature_hash"] = normalize_signature_hash(result["signature_hash"])

    if result.get("intermediate_ca") is not None:
        validate_intermediate_ca(result["intermediate_ca"])

    common_name = result.get("common_name")
    if common_name is not None and (len(common_name) > 253 or not _COMMON_NAME.match(common_name)):
        raise OrderInputError(
            "Invalid value %r for option common_name: use a DNS name in ASCII (punycode for international names), "
            "with a leading '*.' for a wildcard product." % common_name
        )

    product = result.get("product_name_id")
    if product is not None and (not product.strip() or product != product.strip()):
        raise OrderInputError("Invalid value %r for option product_name_id: use a product id such as ssl_plus, without spaces." % product)

    for name in ("organization_id", "previous_order_id"):
        value = result.get(name)
        if value is not None and value < 1:
            raise OrderInputError("Invalid value %r for option %s: DigiCert ids are positive numbers." % (value, name))

    renewal_hash = result.get("renewal_of_certificate")
    if renewal_hash is not None and not _CERTHASH.match(renewal_hash):
        raise OrderInputError(
            "Invalid value %r for option renewal_of_certificate: it must be the certhash (64 hexadecimal characters) of the certificate to renew."
            % renewal_hash
        )

    for name, low, high in (("validity_years", 1, 3), ("validity_days", 1, 397)):
        value = result.get(name)
        if value is not None and not low <= value <= high:
            raise OrderInputError("Invalid value %r for option %s: use a number from %d to %d." % (value, name, low, high))

    if result.get("custom_expiration_date") is not None:
        raw = result["custom_expiration_date"]
        try:
            expires = parse_expiration_date(raw)
        except ValueError:
            raise OrderInputError("Invalid value %r for option custom_expiration_date: use the form YYYY-MM-DD." % raw)
        today = today or datetime.date.today()
        if expires <= today:
            raise OrderInputError("Invalid value %r for option custom_expiration_date: the date must lie in the future." % raw)
        result["custom_expiration_date"] = expires.isoformat()

    if result.get("csr") is not None:
        if "BEGIN CERTIFICATE REQUEST" not in result["csr"] and "BEGIN NEW CERTIFICATE REQUEST" not in result["csr"]:
            raise OrderInputError("Option csr does not hold a PEM certificate signing request (no BEGIN CERTIFICATE REQUEST line).")

    for name in ("approver_user_names", "organization_units", "ev_approver_user_ids"):
        if result.get(name) is not None:
            result[name] = [str(item) for item in result[name]]
            if any(not item.strip() for item in result[name]):
                raise OrderInputError("Option %s contains an empty entry: remove it. Value: %r." % (name, result[name]))
    return result


def _is_unset(value):
    return value is None or value == [] or value == {}


def _set_path(body, path, value):
    node = body
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def build_create_body(options):
    """Build the JSON body of a create request from normalized options."""
    body = {}
    for name, path in REQUEST_PATHS.items():
        value = options.get(name)
        if value is None:
            continue
        _set_path(body, path, value)
    if options.get("intermediate_ca"):
        body["intermediateCA"] = intermediate_ca_body(options["intermediate_ca"])
    return body


def intermediate_ca_body(certificate_authority):
    """Return the API form of an intermediate_ca option (only the keys that are set)."""
    return dict((api_key, certificate_authority[key]) for key, api_key in INTERMEDIATE_CA_KEYS.items() if certificate_authority.get(key))


def ev_approver_ids(order):
    """Return the EV approver ids of an order view, under either spelling the API uses."""
    for key in ("digicertEVApproverUserIds", "digicertEVAApproverUserIds"):
        if order.get(key) is not None:
            return [str(item) for item in order[key]]
    return []


def current_values(order):
    """Return the options that describe an order view, in module option form."""
    certificate = order.get("certificate") or {}
    validity = order.get("validity") or {}
    renewal = order.get("renewal") or {}
    organization = order.get("digicertOrganization") or {}
    organization_id = organization.get("id", order.get("digicertOrganizationId"))
    values = {
        "approver_user_names": list(order.get("approverUserNames") or []),
        "common_name": certificate.get("commonName"),
        "organization_units": list(certificate.get("organizationUnits") or []),
        "signature_hash": certificate.get("signatureHash"),
        "csr": certificate.get("encodedCSR"),
        "validity_years": validity.get("validityYears"),
        "validity_days": validity.get("validityDays"),
        "custom_expiration_date": validity.get("customExpirationDate"),
        "organization_id": int(organization_id) if organization_id is not None else None,
        "product_name_id": order.get("digicertProductNameId"),
        "ev_approver_user_ids": ev_approver_ids(order),
        "renewal_of_certificate": renewal.get("renewalOfCertificate"),
        "previous_order_id": renewal.get("digicertPreviousOrderId"),
    }
    ca = order.get("intermediateCA") or {}
    values["intermediate_ca"] = {
        "certhash": ca.get("certhash"),
        "common_name": ca.get("commonName", ca.get("name")),
        "serial_number": ca.get("serialNumber"),
    }
    return values


def _normalize_pem(text):
    return re.sub(r"\s+", "", text or "")


def _same(name, wanted, current):
    """Compare one option the way the API treats it."""
    if name in ("approver_user_names", "organization_units", "ev_approver_user_ids"):
        return sorted(str(item) for item in wanted) == sorted(str(item) for item in (current or []))
    if name == "signature_hash":
        try:
            return current is not None and normalize_signature_hash(current) == wanted
        except OrderInputError:
            return False
    if name == "csr":
        return _normalize_pem(wanted) == _normalize_pem(current)
    if name == "custom_expiration_date":
        if current is None:
            return False
        try:
            return parse_expiration_date(current).isoformat() == wanted
        except ValueError:
            return False
    if name in ("renewal_of_certificate",):
        return current is not None and str(current).lower() == str(wanted).lower()
    if name == "common_name":
        return current is not None and str(current).lower() == str(wanted).lower()
    return current == wanted


def _same_intermediate_ca(wanted, current):
    # The view names the CA by name and certhash. A key the view does not
    # return cannot be compared, so only the keys present on both sides count.
    for key in ("certhash", "common_name", "serial_number"):
        if wanted.get(key) and current.get(key) and str(wanted[key]).lower() != str(current[key]).lower():
            return False
    return True


def compare_order(options, order):
    """Return (before, after) for the options that the task sets and the order does not match.

    Both dicts are empty when the order already matches.
    """
    current = current_values(order)
    before = {}
    after = {}
    for name in ORDER_OPTIONS:
        wanted = options.get(name)
        if wanted is None or name in UNCOMPARED_OPTIONS:
            continue
        if name == "intermediate_ca":
            if not _same_intermediate_ca(wanted, current["intermediate_ca"]):
                before[name] = dict((key, value) for key, value in current["intermediate_ca"].items() if value)
                after[name] = dict((key, value) for key, value in wanted.items() if value)
            continue
        if not _same(name, wanted, current.get(name)):
            before[name] = current.get(name)
            after[name] = wanted
    # validity contains exactly one value. A task that sets one of the three
    # replaces the others, so they leave the order too.
    if any(name in after for name in VALIDITY_OPTIONS):
        for name in VALIDITY_OPTIONS:
            if name not in after and current.get(name) is not None and options.get(name) is None:
                before[name] = current[name]
                after[name] = None
    return before, after


def build_update_body(options, order):
    """Build the full body of an update: the order as it is, with the options the task sets."""
    current = current_values(order)
    merged = {}
    for name in REQUEST_PATHS:
        if name in UNCOMPARED_OPTIONS:
            continue
        merged[name] = current.get(name)
    if any(options.get(name) is not None for name in VALIDITY_OPTIONS):
        for name in VALIDITY_OPTIONS:
            merged[name] = None
    for name in REQUEST_PATHS:
        if options.get(name) is not None and name != "auto_generate_csr":
            merged[name] = options[name]
    if merged.get("ev_approver_user_ids") == []:
        merged["ev_approver_user_ids"] = None
    body = build_create_body(merged)
    # The order keeps its CA. Its certhash names it without doubt, so that is
    # what the body carries unless the task names the CA itself.
    ca = current["intermediate_ca"]
    if options.get("intermediate_ca"):
        body["intermediateCA"] = intermediate_ca_body(options["intermediate_ca"])
    elif ca.get("certhash"):
        body["intermediateCA"] = {"certhash": ca["certhash"]}
    else:
        body["intermediateCA"] = intermediate_ca_body(ca)
    body.setdefault("certificate", {}).setdefault("csr", {})["autoGenerateCSR"] = False
    return body


def order_result(order):
    """Return an order in snake_case for module results, without any private key."""
    if order is None:
        return None
    cleaned = copy.deepcopy(order)
    # The update response spells the field digicertEVAApproverUserIds.
    misspelled = cleaned.pop("digicertEVAApproverUserIds", None)
    if cleaned.get("digicertEVApproverUserIds") is None and misspelled is not None:
        cleaned["digicertEVApproverUserIds"] = misspelled
    certificate = cleaned.get("certificate")
    if isinstance(certificate, dict):
        certificate.pop("privateKey", None)
    return camel_dict_to_snake_dict(cleaned)

"""The certificate inventory: stored certificates and the filtered, paged listing of POST /certview/v2/certificates."""

from cryptography.x509.oid import NameOID

from . import crypto
from .errors import invalid_value
from .timestamps import format_timestamp, parse_moment

OPERATORS = ("EQUALS", "NOT_EQUALS", "CONTAINS", "GREATER", "LESSER", "GREATER_THAN_EQUAL", "LESS_THAN_EQUAL", "IN", "IS_EMPTY", "IS_NOT_EMPTY")
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000


def _name_view(name, certhash=None):
    view = {
        "name": crypto.name_attribute(name, NameOID.COMMON_NAME),
        "organization": crypto.name_attribute(name, NameOID.ORGANIZATION_NAME),
        "organizationUnit": [attribute.value for attribute in name.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)],
        "country": crypto.name_attribute(name, NameOID.COUNTRY_NAME),
        "state": crypto.name_attribute(name, NameOID.STATE_OR_PROVINCE_NAME),
        "locality": crypto.name_attribute(name, NameOID.LOCALITY_NAME),
    }
    if certhash is not None:
        view["certhash"] = certhash
    return view


def _epoch_ms(moment):
    return int(moment.timestamp() * 1000)


class InventoryItem:
    """One certificate in the inventory: the public fields, the PEM and the renewal marker."""

    def __init__(self, item_id, certificate, cert_type, issuer_ca, added, extended_validation=False, renewal_status=None):
        self.id = item_id
        self.certificate = certificate
        self.certhash = crypto.certhash(certificate)
        self.cert_type = cert_type
        self.issuer_ca = issuer_ca
        self.added = added
        self.extended_validation = extended_validation
        self.renewal_status = renewal_status
        # UUID of the renewal order that set renewal_status, None for seeded markers.
        self.renewal_order = None

    @property
    def not_before(self):
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self):
        return self.certificate.not_valid_after_utc

    @property
    def pem(self):
        return crypto.certificate_pem(self.certificate)

    def to_api(self):
        certificate = self.certificate
        issuer_hash = self.issuer_ca.certhash if self.issuer_ca is not None else self.certhash
        root = self.issuer_ca
        while root is not None and root.parent is not None:
            root = root.parent
        view = {
            "id": self.id,
            "certhash": self.certhash,
            "keySize": crypto.key_size(certificate.public_key()),
            "serialNumber": crypto.serial_hex(certificate),
            "validToDate": format_timestamp(self.not_after),
            "validTo": _epoch_ms(self.not_after),
            "validFromDate": format_timestamp(self.not_before),
            "validFrom": _epoch_ms(self.not_before),
            "signatureAlgorithm": crypto.signature_algorithm_name(certificate),
            "extendedValidation": self.extended_validation,
            "createdDate": format_timestamp(self.added),
            "dn": certificate.subject.rfc4514_string(),
            "subject": _name_view(certificate.subject),
            "updateDate": format_timestamp(self.added),
            "imported": False,
            "selfSigned": certificate.subject == certificate.issuer,
            "issuer": _name_view(certificate.issuer, issuer_hash),
            "issuerCategory": "DigiCert" if self.issuer_ca is not None and self.issuer_ca.digicert else None,
            "type": self.cert_type,
            "rootissuer": _name_view(root.certificate.subject, root.certhash) if root is not None else None,
            "renewalStatus": self.renewal_status,
            "instanceCount": 0,
            "assetCount": 0,
            "sources": ["API"],
        }
        return view

    def to_admin(self):
        view = self.to_api()
        view["pem"] = self.pem
        view["renewalOrder"] = self.renewal_order
        return view


# Fields a filter may name. A "certificate." prefix and the aliases below are also accepted.
FIELD_ALIASES = {"hash": "certhash", "certificateType": "type", "commonName": "subject.name", "name": "subject.name"}
DATE_FIELDS = frozenset({"validToDate", "validFromDate", "createdDate", "updateDate", "validTo", "validFrom"})
NUMBER_FIELDS = frozenset({"id", "keySize"})
FILTER_FIELDS = (
    "id",
    "certhash",
    "serialNumber",
    "type",
    "keySize",
    "signatureAlgorithm",
    "extendedValidation",
    "selfSigned",
    "renewalStatus",
    "dn",
    "subject.name",
    "subject.organization",
    "issuer.name",
    "issuer.organization",
    "issuer.certhash",
) + tuple(sorted(DATE_FIELDS))


def _field_value(view, field):
    value = view
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _resolve_field(field):
    if not isinstance(field, str):
        raise invalid_value("filter.filters.field", field)
    name = field[len("certificate.") :] if field.startswith("certificate.") else field
    name = FIELD_ALIASES.get(name, name)
    if name not in FILTER_FIELDS:
        raise invalid_value("filter.filters.field", field, "supported fields: " + ", ".join(FILTER_FIELDS))
    return name


def _comparable(field, value):
    """Return the value in the form used for ordering comparisons on this field, or None."""
    if field in DATE_FIELDS:
        return parse_moment(value)
    if field in NUMBER_FIELDS:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if value is None:
        return None
    return str(value).lower()


def _matches(view, condition):
    field, operator, expected = condition
    actual = _field_value(view, field)
    if operator == "IS_EMPTY":
        return actual in (None, "", [])
    if operator == "IS_NOT_EMPTY":
        return actual not in (None, "", [])
    if operator == "IN":
        choices = expected if isinstance(expected, list) else str(expected).split(",")
        accepted = {_comparable(field, choice.strip() if isinstance(choice, str) else choice) for choice in choices}
        return _comparable(field, actual) in accepted
    if operator == "CONTAINS":
        return actual is not None and str(expected).lower() in str(actual).lower()
    left, right = _comparable(field, actual), _comparable(field, expected)
    if operator == "EQUALS":
        return left is not None and left == right
    if operator == "NOT_EQUALS":
        return left != right
    if left is None or right is None:
        return False
    if operator == "GREATER":
        return left > right
    if operator == "LESSER":
        return left < right
    if operator == "GREATER_THAN_EQUAL":
        return left >= right
    return left <= right


def _parse_conditions(body):
    spec = body.get("filter")
    if spec is None:
        return [], "AND"
    if not isinstance(spec, dict):
        raise invalid_value("filter", spec)
    operation = spec.get("operation", spec.get("operator", "AND"))
    if operation not in ("AND", "OR"):
        raise invalid_value("filter.operation", operation)
    filters = spec.get("filters") or []
    if not isinstance(filters, list):
        raise invalid_value("filter.filters", filters)
    conditions = []
    for entry in filters:
        if not isinstance(entry, dict):
            raise invalid_value("filter.filters", entry)
        field = _resolve_field(entry.get("field"))
        operator = entry.get("operator", "EQUALS")
        if operator not in OPERATORS:
            raise invalid_value("filter.filters.operator", operator, "supported operators: " + ", ".join(OPERATORS))
        value = entry.get("value")
        if operator not in ("IS_EMPTY", "IS_NOT_EMPTY") and value is None:
            raise invalid_value("filter.filters.value", value, "a value is required for operator %s" % operator)
        if operator in ("GREATER", "LESSER", "GREATER_THAN_EQUAL", "LESS_THAN_EQUAL") and _comparable(field, value) is None:
            raise invalid_value("filter.filters.value", value, "not comparable with field %s" % field)
        conditions.append((field, operator, value))
    return conditions, operation


def _page_parameter(body, name, default, minimum, maximum):
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise invalid_value(name, value, "an integer from %d to %d" % (minimum, maximum))
    return value


def query(items, body):
    """Return one page of API views of the items that match the request body's filter, ordered by id."""
    conditions, operation = _parse_conditions(body)
    page_number = _page_parameter(body, "pageNumber", 0, 0, 1_000_000)
    page_size = _page_parameter(body, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    combine = all if operation == "AND" else any
    views = [item.to_api() for item in sorted(items, key=lambda item: item.id)]
    selected = [view for view in views if not conditions or combine(_matches(view, condition) for condition in conditions)]
    start = page_number * page_size
    return selected[start : start + page_size]

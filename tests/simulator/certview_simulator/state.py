"""The simulator's in-memory state: configuration, tokens, orders, inventory, request log and faults.

One re-entrant lock guards everything. Every public method takes it, so routes may call them from
werkzeug's request threads in any order.
"""

import base64
import dataclasses
import datetime
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from typing import Optional

from . import crypto, faults
from .errors import ERROR_FORMATS, LICENSES_EXHAUSTED, NOT_EDITABLE_STATE, ORDER_NOT_FOUND, standard_error
from .fixtures import ORGANIZATIONS_BY_ID, PRODUCTS, Pki
from .inventory import InventoryItem, query
from .orders import APPROVED, CANCELLED, EV_FIELD_UPDATE, ISSUED, POSTED, REJECTED, SUBMITTED, Order
from .timestamps import format_timestamp, parse_date_or_time, utc_now
from .validation import OrderValidator, parse_json_object, validate_status_change

MAX_LOG_ENTRIES = 10000
FIRST_INVENTORY_ID = 1001


@dataclasses.dataclass
class SimulatorConfig:
    """Settings that POST /_sim/config may change. Reset restores the values the server started with."""

    issue_delay: float = 2.0
    post_delay: float = 0.5
    token_lifetime: float = 4 * 3600.0
    error_format: str = "xml"
    license_limit: Optional[int] = None
    create_status: int = 201

    def validate(self):
        for name in ("issue_delay", "post_delay", "token_lifetime"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError("%s must be a number of seconds >= 0, got %r" % (name, value))
            setattr(self, name, float(value))
        if self.error_format not in ERROR_FORMATS:
            raise ValueError("error_format must be one of %s, got %r" % (", ".join(ERROR_FORMATS), self.error_format))
        limit = self.license_limit
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValueError("license_limit must be an integer >= 0 or null, got %r" % (limit,))
        if self.create_status not in (200, 201):
            raise ValueError("create_status must be 200 or 201, got %r" % (self.create_status,))

    def updated(self, changes):
        """Return a validated copy with the changes applied, or raise ValueError on unknown keys or invalid values."""
        if not isinstance(changes, dict):
            raise ValueError("the body must be a JSON object of settings")
        known = {field.name for field in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError("unknown settings %s. Known settings: %s" % (", ".join(unknown), ", ".join(sorted(known))))
        config = dataclasses.replace(self, **changes)
        config.validate()
        return config


def _base64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SimulatorState:
    def __init__(self, config=None, pki=None, clock=utc_now):
        self.lock = threading.RLock()
        self.initial_config = dataclasses.replace(config or SimulatorConfig())
        self.initial_config.validate()
        self.pki = pki or Pki()
        self.clock = clock
        self._token_secret = secrets.token_bytes(32)
        self.reset()

    def reset(self):
        """Restore the initial configuration, orders, inventory, tokens, faults and log, but keep the CA keys."""
        with self.lock:
            self.config = dataclasses.replace(self.initial_config)
            self.tokens = {}
            self.orders = {}
            self.request_log = []
            self._log_sequence = 0
            self.faults = []
            self._fault_sequence = 0
            self.inventory = {}
            self._next_inventory_id = FIRST_INVENTORY_ID
            now = self.clock()
            for seed in self.pki.seed_certificates:
                item = self._add_certificate(seed.certificate, seed.cert_type, seed.issuer, now)
                item.renewal_status = seed.renewal_status

    def configure(self, changes):
        with self.lock:
            self.config = self.config.updated(changes)
            return dataclasses.asdict(self.config)

    def config_dict(self):
        with self.lock:
            return dataclasses.asdict(self.config)

    # Tokens

    def issue_token(self, username):
        """Return a new bearer token: a JWT-shaped string that is valid for the configured lifetime."""
        with self.lock:
            now = self.clock()
            expires = now + datetime.timedelta(seconds=self.config.token_lifetime)
            header = _base64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
            claims = {"iss": "certview-simulator", "sub": username, "iat": int(now.timestamp()), "exp": int(expires.timestamp()), "jti": uuid.uuid4().hex}
            payload = _base64url(json.dumps(claims).encode())
            signature = _base64url(hmac.new(self._token_secret, ("%s.%s" % (header, payload)).encode(), hashlib.sha256).digest())
            token = "%s.%s.%s" % (header, payload, signature)
            self.tokens[token] = (username, expires)
            return token

    def token_user(self, token):
        """Return the user name of a valid, unexpired token, else None."""
        with self.lock:
            record = self.tokens.get(token)
            if record is None or self.clock() >= record[1]:
                return None
            return record[0]

    def expire_tokens(self, username=None):
        """Expire every issued token, or those of one user, and return how many were still valid."""
        with self.lock:
            now = self.clock()
            count = 0
            for token, (owner, expires) in list(self.tokens.items()):
                if username is not None and owner != username:
                    continue
                if expires > now:
                    count += 1
                self.tokens[token] = (owner, now)
            return count

    # Faults and request log

    def add_faults(self, payload):
        with self.lock:
            new_faults = faults.parse_faults(payload, self._fault_sequence + 1)
            self._fault_sequence += len(new_faults)
            self.faults.extend(new_faults)
            return [fault.to_dict() for fault in self.faults]

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def list_faults(self):
        with self.lock:
            return [fault.to_dict() for fault in self.faults]

    def take_fault(self, method, path):
        """Return the first fault that matches the request and count the use. A fault that is used up is removed."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    if fault.exhausted:
                        self.faults.remove(fault)
                    return fault
            return None

    def log_request(self, entry):
        with self.lock:
            self._log_sequence += 1
            entry = dict(entry, seq=self._log_sequence, time=format_timestamp(self.clock()))
            self.request_log.append(entry)
            del self.request_log[:-MAX_LOG_ENTRIES]

    def requests(self, since=0):
        with self.lock:
            return [dict(entry) for entry in self.request_log if entry["seq"] > since]

    def clear_requests(self):
        with self.lock:
            self.request_log = []

    # Orders

    def _find_certificate(self, certhash):
        return self.inventory.get(certhash.lower())

    def _stored_order(self, order_uuid):
        order = self.orders.get(order_uuid)
        if order is None:
            raise standard_error(404, ORDER_NOT_FOUND, "no order with uuid %s" % order_uuid)
        self._refresh(order, self.clock())
        return order

    def create_order(self, data, username):
        """Validate a create body, store the order and return its view, the only view with the private key."""
        with self.lock:
            body = parse_json_object(data)
            now = self.clock()
            request = OrderValidator(self.pki, self._find_certificate, now).validate(body)
            self._check_license()
            private_key = None
            if request.auto_generate_csr:
                # NOTE: RSA key generation runs under the state lock and holds other requests up (0.04 s median, 2-core VM).
                key, csr = crypto.make_csr(request.common_name, request.organization["name"], request.organization_units or ())
                private_key = crypto.private_key_pem(key)
                csr_text, dns_names = crypto.csr_pem(csr), None
            else:
                csr_text, dns_names = request.csr_pem, crypto.csr_dns_names(request.csr) or None
            order = Order(
                uuid=str(uuid.uuid4()),
                ca_name=request.ca.common_name,
                ca_certhash=request.ca.certhash,
                approver_user_names=request.approver_user_names,
                requester=username,
                common_name=request.common_name,
                organization_units=request.organization_units,
                signature_hash=request.signature_hash,
                csr_pem=csr_text,
                auto_generated_csr=request.auto_generate_csr,
                dns_names=dns_names,
                renewal=request.renewal,
                validity=request.validity,
                organization_id=request.organization["id"],
                product_name_id=request.product.name_id,
                ev_approver_user_ids=request.ev_approver_user_ids,
                comment=request.comment,
                created=now,
                updated=now,
            )
            order.history.append({"status": SUBMITTED, "time": format_timestamp(now), "user": username, "comment": request.comment})
            self.orders[order.uuid] = order
            if request.renewal is not None:
                renewed = self._find_certificate(request.renewal["renewalOfCertificate"])
                renewed.renewal_status, renewed.renewal_order = "IN_RENEWAL", order.uuid
            return order.render(private_key=private_key)

    def _check_license(self):
        limit = self.config.license_limit
        if limit is None:
            return
        used = sum(1 for order in self.orders.values() if order.status not in (REJECTED, CANCELLED))
        if used >= limit:
            raise standard_error(403, LICENSES_EXHAUSTED, "%d of %d licenses are in use" % (used, limit))

    def update_order(self, order_uuid, data, username):
        """Apply a full-body update to a SUBMITTED order and return the update response."""
        with self.lock:
            order = self._stored_order(order_uuid)
            body = parse_json_object(data)
            if order.status != SUBMITTED:
                raise standard_error(409, NOT_EDITABLE_STATE, "order %s is %s, and only SUBMITTED orders can be edited" % (order.uuid, order.status))
            now = self.clock()
            request = OrderValidator(self.pki, self._find_certificate, now, existing=order).validate(body)
            order.approver_user_names = request.approver_user_names
            order.common_name = request.common_name
            order.organization_units = request.organization_units
            order.signature_hash = request.signature_hash
            if not request.auto_generate_csr:
                # NOTE: with autoGenerateCSR true the stored service-generated CSR stays, even if commonName changed.
                order.csr_pem = request.csr_pem
                order.auto_generated_csr = False
                order.dns_names = crypto.csr_dns_names(request.csr) or None
            order.renewal = request.renewal
            order.validity = request.validity
            order.organization_id = request.organization["id"]
            order.product_name_id = request.product.name_id
            order.ev_approver_user_ids = request.ev_approver_user_ids
            order.comment = request.comment
            order.updated = now
            order.history.append({"status": "UPDATED", "time": format_timestamp(now), "user": username, "comment": request.comment})
            return order.render(ev_field=EV_FIELD_UPDATE)

    def change_status(self, order_uuid, data, username):
        """Approve, reject or cancel a SUBMITTED order."""
        with self.lock:
            order = self._stored_order(order_uuid)
            body = parse_json_object(data)
            status, comment = validate_status_change(body)
            if order.status != SUBMITTED:
                raise standard_error(409, NOT_EDITABLE_STATE, "order %s is %s, and only SUBMITTED orders can change status" % (order.uuid, order.status))
            now = self.clock()
            if status == APPROVED:
                order.approve(now, username, comment, self.config.post_delay, self.config.issue_delay)
            else:
                order.record(status, now, username, comment)
                self._release_renewal(order)

    def view_order(self, order_uuid):
        with self.lock:
            return self._stored_order(order_uuid).render()

    def advance_order(self, order_uuid, username="simulator"):
        """Force the next lifecycle step of an order now and return its admin view."""
        with self.lock:
            order = self._stored_order(order_uuid)
            now = self.clock()
            if order.status == SUBMITTED:
                order.approve(now, username, "advanced by POST /_sim/orders/<uuid>/advance", self.config.post_delay, self.config.issue_delay)
            elif order.status == APPROVED:
                order.posted_due = now
                order.issued_due = now + datetime.timedelta(seconds=self.config.issue_delay)
            elif order.status == POSTED:
                order.issued_due = now
            else:
                raise standard_error(409, NOT_EDITABLE_STATE, "order %s is %s, a final status" % (order.uuid, order.status))
            self._refresh(order, now)
            return self._admin_view(order)

    def admin_orders(self):
        with self.lock:
            now = self.clock()
            for order in self.orders.values():
                self._refresh(order, now)
            return [self._admin_view(order) for order in self.orders.values()]

    def admin_order(self, order_uuid):
        with self.lock:
            return self._admin_view(self._stored_order(order_uuid))

    def _admin_view(self, order):
        issued = self.inventory.get(order.issued_certhash) if order.issued_certhash else None
        return order.render_admin(issued.pem if issued is not None else None)

    def _release_renewal(self, order):
        if order.renewal is None:
            return
        renewed = self._find_certificate(order.renewal["renewalOfCertificate"])
        if renewed is not None and renewed.renewal_order == order.uuid:
            renewed.renewal_status, renewed.renewal_order = None, None

    # Lifecycle and issuance

    def _refresh(self, order, now):
        for status, due in order.due_steps(now):
            order.record(status, due, comment="sent to the CA" if status == POSTED else "issued by the CA")
            if status == ISSUED:
                self._issue(order, due)

    def _issue(self, order, moment):
        """Sign the order's certificate with the issuing CA and add it to the inventory."""
        csr = crypto.parse_csr(order.csr_pem)
        organization = ORGANIZATIONS_BY_ID[order.organization_id]
        dns_names = [order.common_name]
        if order.common_name.startswith("*."):
            dns_names.append(order.common_name[2:])
        for name in crypto.csr_dns_names(csr):
            if name.lower() not in (known.lower() for known in dns_names):
                dns_names.append(name)
        subject = crypto.build_name(order.common_name, organization["name"], order.organization_units or ())
        ca = self.pki.issuing_ca
        certificate = crypto.issue_leaf(
            ca.certificate, ca.key, csr.public_key(), subject, dns_names, moment, _expiry(order.validity, moment), order.signature_hash
        )
        product = PRODUCTS[order.product_name_id]
        item = self._add_certificate(certificate, "Leaf", ca, moment, extended_validation=product.extended_validation)
        order.issued_certhash = item.certhash
        if order.renewal is not None:
            renewed = self._find_certificate(order.renewal["renewalOfCertificate"])
            if renewed is not None and renewed.renewal_order == order.uuid:
                renewed.renewal_status = "RENEWED"

    def _add_certificate(self, certificate, cert_type, issuer, added, extended_validation=False):
        item = InventoryItem(self._next_inventory_id, certificate, cert_type, issuer, added, extended_validation)
        self._next_inventory_id += 1
        self.inventory[item.certhash] = item
        return item

    def list_inventory(self, body):
        with self.lock:
            now = self.clock()
            for order in self.orders.values():
                self._refresh(order, now)
            return query(self.inventory.values(), body)

    def admin_inventory(self):
        with self.lock:
            return [item.to_admin() for item in sorted(self.inventory.values(), key=lambda item: item.id)]


def _expiry(validity, issued):
    """Return the notAfter time for the order's validity, counted from the issue time."""
    if validity.get("validityYears"):
        years = validity["validityYears"]
        try:
            return issued.replace(year=issued.year + years)
        except ValueError:
            # 29 February in a year that has none.
            return issued.replace(year=issued.year + years, day=28)
    if validity.get("validityDays"):
        return issued + datetime.timedelta(days=validity["validityDays"])
    moment, date_only = parse_date_or_time(validity["customExpirationDate"])
    if date_only:
        moment = moment.replace(hour=23, minute=59, second=59)
    return max(moment, issued + datetime.timedelta(days=1))

"""Tests of the Certificate View simulator over real HTTP with requests.

One plain-HTTP server runs for the module and is reset before every test. The TLS test starts
its own. Delays are set to a few hundredths of a second so that a full lifecycle takes well
under a second.
"""

import datetime
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from xml.etree import ElementTree

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from certview_simulator.server import SimulatorServer

ENROLLMENT = "/certview/rest/public/v1/certificates/enrollment/digicert"
ORDERS = ENROLLMENT + "/orders"
INVENTORY = "/certview/v2/certificates"
ISSUING_CA = "DigiCert Test SHA2 Intermediate CA-1"
UNCONFIGURED_CA = "DigiCert Unconfigured Intermediate CA"
PRIVATE_CA = "Example Private Issuing CA"
PASSWORDS = {
    "requester": "requester-pass",
    "approver": "approver-pass",
    "manager": "manager-pass",
    "pkiadmin": "pkiadmin-pass",
    "nolicense": "nolicense-pass",
    "auditor": "auditor-pass",
}
FAST = {"post_delay": 0.05, "issue_delay": 0.1}
DELETE = object()


class Sim:
    """Test-side client of one simulator: API calls as a fixture user and the /_sim admin endpoints."""

    def __init__(self, server):
        self.server = server
        self.url = server.url
        self.verify = server.ca_path if server.tls else True
        self._tokens = {}

    def admin(self, method, path, **kwargs):
        response = requests.request(method, self.url + "/_sim/" + path, timeout=10, verify=self.verify, **kwargs)
        response.raise_for_status()
        return response.json()

    def login(self, username):
        response = requests.post(
            self.url + "/auth", data={"username": username, "password": PASSWORDS[username], "token": "true"}, timeout=10, verify=self.verify
        )
        assert response.status_code == 201, response.text
        return response.text

    def token(self, username):
        if username not in self._tokens:
            self._tokens[username] = self.login(username)
        return self._tokens[username]

    def call(self, method, path, user="requester", body=None, data=None, timeout=10, headers=None):
        all_headers = {"Accept": "application/json", "Authorization": "Bearer " + self.token(user)}
        all_headers.update(headers or {})
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        return requests.request(method, self.url + path, json=body, data=data, headers=all_headers, timeout=timeout, verify=self.verify)

    def ca(self, common_name=ISSUING_CA):
        return next(ca for ca in self.admin("GET", "cas") if ca["commonName"] == common_name)

    def inventory(self):
        return self.admin("GET", "certificates")

    def seeded(self, common_name):
        return next(item for item in self.inventory() if item["subject"]["name"] == common_name)

    def create(self, body, user="requester"):
        response = self.call("POST", ORDERS, user, body)
        assert response.status_code == 201, response.text
        return response.json()

    def set_status(self, order_uuid, status, user="approver", comment="checked"):
        return self.call("PUT", "%s/%s/status" % (ORDERS, order_uuid), user, {"status": status, "comment": comment})

    def view(self, order_uuid, user="requester"):
        return self.call("GET", "%s/%s" % (ORDERS, order_uuid), user)

    def wait_for(self, order_uuid, status, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            order = self.view(order_uuid).json()
            if order["status"] == status or time.monotonic() > deadline:
                return order
            time.sleep(0.02)

    def inject(self, *faults):
        self.admin("POST", "faults", json={"faults": list(faults)})

    def log(self):
        return [entry for entry in self.admin("GET", "requests") if entry["path"] != "/auth"]


def make_csr(common_name="www.example.com", key=None, dns_names=()):
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]), critical=False)
    csr = builder.sign(key, hashes.SHA256())
    return key, csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


CLIENT_KEY, CLIENT_CSR = make_csr(dns_names=("www.example.com", "api.example.com"))


def order_body(sim, ca=ISSUING_CA, csr=CLIENT_CSR, **changes):
    """Return a valid create body. changes maps dotted paths to new values, or to DELETE to remove the key."""
    body = {
        "approverUserNames": ["approver"],
        "intermediateCA": {"certhash": sim.ca(ca)["certhash"]},
        "certificate": {
            "commonName": "www.example.com",
            "csr": {"encodedCSR": csr} if csr else {"autoGenerateCSR": True},
            "organizationUnits": ["QA"],
            "signatureHash": "SHA-256",
        },
        "comment": "test order",
        "digicertOrganizationId": 525858,
        "digicertProductNameId": "ssl_plus",
        "validity": {"validityYears": 1},
    }
    for path, value in changes.items():
        set_path(body, path, value)
    return body


def set_path(body, path, value):
    *parents, last = path.split(".")
    target = body
    for name in parents:
        target = target.setdefault(name, {})
    if value is DELETE:
        target.pop(last, None)
    else:
        target[last] = value


def error_of(response):
    """Return (code, text) of an XML error response."""
    assert response.headers["Content-Type"].startswith("application/xml"), response.headers["Content-Type"]
    root = ElementTree.fromstring(response.content)
    assert root.tag == "SIMPLE_RETURN"
    return root.findtext("RESPONSE/CODE"), root.findtext("RESPONSE/TEXT")


def assert_error(response, status, code, text=None):
    assert response.status_code == status, response.text
    actual_code, actual_text = error_of(response)
    assert actual_code == code, actual_text
    if text is not None:
        assert text in actual_text


@pytest.fixture(scope="module")
def server():
    simulator = SimulatorServer(**FAST).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def sim(server):
    requests.post(server.url + "/_sim/reset", timeout=10).raise_for_status()
    return Sim(server)


# Authentication


def test_auth_returns_jwt_shaped_token(sim):
    response = requests.post(sim.url + "/auth", data={"username": "requester", "password": "requester-pass", "token": "true"}, timeout=10)
    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith("text/plain")
    assert len(response.text.split(".")) == 3
    assert sim.call("GET", ORDERS + "/no-such-order").status_code == 404


@pytest.mark.parametrize(
    "form, status, code",
    [
        ({"username": "requester", "password": "wrong", "token": "true"}, 401, "401"),
        ({"username": "nobody", "password": "requester-pass", "token": "true"}, 401, "401"),
        ({"username": "requester", "password": "requester-pass"}, 400, "1903"),
        ({"username": "requester", "password": "requester-pass", "token": "false"}, 400, "1905"),
    ],
    ids=["bad-password", "unknown-user", "missing-token-field", "token-false"],
)
def test_auth_rejects_bad_form(sim, form, status, code):
    response = requests.post(sim.url + "/auth", data=form, timeout=10)
    assert_error(response, status, code)


def test_auth_log_never_stores_password(sim):
    sim.login("requester")
    entry = sim.admin("GET", "requests")[-1]
    assert entry["path"] == "/auth"
    assert entry["json"] == {"username": "requester"}
    assert "requester-pass" not in json.dumps(sim.admin("GET", "requests"))


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic cmVxdWVzdGVyOnJlcXVlc3Rlci1wYXNz"])
def test_bearer_missing_or_invalid_is_401(sim, header):
    headers = {"Authorization": header} if header else {}
    response = requests.get(sim.url + ORDERS + "/x", headers=headers, timeout=10)
    assert_error(response, 401, "401")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_tokens_are_401(sim):
    token = sim.token("requester")
    assert sim.admin("POST", "tokens/expire") == {"expired": 1}
    response = requests.get(sim.url + ORDERS + "/x", headers={"Authorization": "Bearer " + token}, timeout=10)
    assert_error(response, 401, "401")


def test_token_lifetime_is_configurable(sim):
    sim.admin("POST", "config", json={"token_lifetime": 0.3})
    token = sim.login("requester")
    headers = {"Authorization": "Bearer " + token}
    assert requests.get(sim.url + ORDERS + "/x", headers=headers, timeout=10).status_code == 404
    time.sleep(0.4)
    assert requests.get(sim.url + ORDERS + "/x", headers=headers, timeout=10).status_code == 401


# Validation of order bodies

VALIDATION_CASES = [
    (
        "only-two-missing",
        {"certificate.signatureHash": DELETE, "validity": DELETE},
        400,
        "1903",
        "Missing required parameter(s): certificate.signatureHash, validity",
    ),
    ("nested-missing", {"certificate.commonName": "", "certificate.csr": {}}, 400, "1903", "certificate.commonName, certificate.csr.encodedCSR"),
    ("renewal-fields-missing", {"renewal": {}}, 400, "1903", "renewal.digicertPreviousOrderId, renewal.renewalOfCertificate"),
    ("ev-approvers-missing", {"digicertProductNameId": "ssl_ev_securesite"}, 400, "1903", "digicertEVApproverUserIds"),
    ("ca-keys-empty", {"intermediateCA": {"certhash": None}}, 400, "1922", "intermediateCA.certhash, intermediateCA.commonName, intermediateCA.serialNumber"),
    ("validity-empty", {"validity": {}}, 400, "1922", "validity.customExpirationDate"),
    ("validity-two", {"validity": {"validityYears": 1, "validityDays": 30}}, 400, "1904", "validity.validityYears, validity.validityDays"),
    ("csr-both", {"certificate.csr.autoGenerateCSR": True}, 400, "1907", "autoGenerateCSR=true"),
    ("hash-md5", {"certificate.signatureHash": "MD5"}, 400, "1905", "parameter certificate.signatureHash has invalid value MD5"),
    ("hash-lowercase", {"certificate.signatureHash": "sha256"}, 400, "1905", "certificate.signatureHash"),
    ("approver-requester-role", {"approverUserNames": ["requester"]}, 400, "1905", "parameter approverUserNames has invalid value requester"),
    ("approver-unknown", {"approverUserNames": ["approver", "ghost"]}, 400, "1905", "ghost"),
    ("ca-unknown", {"intermediateCA": {"certhash": "ab" * 32}}, 400, "1905", "parameter intermediateCA has invalid value certhash=" + "ab" * 32),
    ("ca-unknown-name", {"intermediateCA": {"commonName": "No Such CA"}}, 400, "1905", "parameter intermediateCA has invalid value commonName=No Such CA"),
    (
        "csr-garbage",
        {"certificate.csr.encodedCSR": "-----BEGIN CERTIFICATE REQUEST-----\nbm9wZQ==\n-----END CERTIFICATE REQUEST-----"},
        400,
        "1905",
        "encodedCSR",
    ),
    ("common-name-ip", {"certificate.commonName": "10.0.0.1"}, 400, "1905", "certificate.commonName"),
    ("common-name-single-label", {"certificate.commonName": "localhost"}, 400, "1905", "certificate.commonName"),
    ("years-too-many", {"validity": {"validityYears": 4}}, 400, "1905", "parameter validity.validityYears has invalid value 4"),
    ("years-boolean", {"validity": {"validityYears": True}}, 400, "1905", "validity.validityYears"),
    ("days-too-many", {"validity": {"validityDays": 398}}, 400, "1905", "validity.validityDays has invalid value 398"),
    ("days-zero", {"validity": {"validityDays": 0}}, 400, "1905", "validity.validityDays"),
    ("expiration-past", {"validity": {"customExpirationDate": "2020-01-01"}}, 400, "1905", "validity.customExpirationDate has invalid value 2020-01-01"),
    ("expiration-not-a-date", {"validity": {"customExpirationDate": "next year"}}, 400, "1905", "validity.customExpirationDate"),
    ("organization-inactive", {"digicertOrganizationId": 700001}, 400, "1905", "parameter digicertOrganizationId has invalid value 700001"),
    ("organization-unknown", {"digicertOrganizationId": 1}, 400, "1905", "digicertOrganizationId"),
    ("organization-string", {"digicertOrganizationId": "525858"}, 400, "1905", "digicertOrganizationId"),
    ("product-unknown", {"digicertProductNameId": "ssl_gold"}, 400, "1905", "parameter digicertProductNameId has invalid value ssl_gold"),
    ("wildcard-product-plain-name", {"digicertProductNameId": "ssl_wildcard"}, 400, "1905", "certificate.commonName has invalid value www.example.com"),
    ("wildcard-name-plain-product", {"certificate.commonName": "*.example.com"}, 400, "1905", "certificate.commonName"),
    (
        "ev-approver-unknown",
        {"digicertProductNameId": "ssl_ev_securesite", "digicertEVApproverUserIds": ["999"]},
        400,
        "1905",
        "digicertEVApproverUserIds has invalid value 999",
    ),
    ("ev-approver-integer", {"digicertProductNameId": "ssl_ev_securesite", "digicertEVApproverUserIds": [1541521]}, 400, "1905", "digicertEVApproverUserIds"),
    ("certhash-format", {"renewal": {"digicertPreviousOrderId": 1, "renewalOfCertificate": "xyz"}}, 400, "1905", "renewal.renewalOfCertificate"),
    ("missing-beats-invalid", {"certificate.signatureHash": "MD5", "validity": DELETE}, 400, "1903", "Missing required parameter(s): validity"),
    ("group-beats-invalid", {"validity": {}, "digicertProductNameId": "ssl_gold"}, 400, "1922", "validity."),
    ("combination-beats-invalid", {"certificate.csr.autoGenerateCSR": True, "certificate.signatureHash": "MD5"}, 400, "1907", None),
]


@pytest.mark.parametrize("changes, status, code, text", [case[1:] for case in VALIDATION_CASES], ids=[case[0] for case in VALIDATION_CASES])
def test_create_validation(sim, changes, status, code, text):
    response = sim.call("POST", ORDERS, body=order_body(sim, **changes))
    assert_error(response, status, code, text)
    assert sim.admin("GET", "orders") == []


def test_create_empty_object_lists_every_missing_field(sim):
    response = sim.call("POST", ORDERS, body={})
    expected = "Missing required parameter(s): approverUserNames, intermediateCA, certificate, validity, digicertOrganizationId, digicertProductNameId"
    assert_error(response, 400, "1903")
    assert error_of(response)[1] == expected


@pytest.mark.parametrize("data", ['{"approverUserNames": [', "[1, 2]", "not json", '{"a": NaN}', ""], ids=["truncated", "array", "text", "nan", "empty"])
def test_create_malformed_json_is_140001(sim, data):
    assert_error(sim.call("POST", ORDERS, data=data), 400, "140001", "Malformed json")


def test_mismatched_ca_keys_are_1905(sim):
    other = sim.ca(UNCONFIGURED_CA)
    body = order_body(sim, **{"intermediateCA": {"certhash": sim.ca()["certhash"], "serialNumber": other["serialNumber"]}})
    assert_error(sim.call("POST", ORDERS, body=body), 400, "1905", "parameter intermediateCA has invalid value")


def test_ca_found_by_name_or_serial(sim):
    ca = sim.ca()
    for keys in ({"commonName": ISSUING_CA}, {"serialNumber": ca["serialNumber"].upper()}, {"certhash": ca["certhash"], "commonName": ISSUING_CA}):
        order = sim.create(order_body(sim, intermediateCA=keys))
        assert order["intermediateCA"] == {"name": ISSUING_CA, "certhash": ca["certhash"]}


@pytest.mark.parametrize("ca, code", [(PRIVATE_CA, "140004"), (UNCONFIGURED_CA, "140005")])
def test_create_rejects_unusable_ca(sim, ca, code):
    assert_error(sim.call("POST", ORDERS, body=order_body(sim, ca=ca)), 400, code, ca)


def test_invalid_value_beats_ca_checks(sim):
    body = order_body(sim, ca=UNCONFIGURED_CA, **{"certificate.signatureHash": "MD5"})
    assert_error(sim.call("POST", ORDERS, body=body), 400, "1905")


def test_license_limit_is_148101(sim):
    sim.admin("POST", "config", json={"license_limit": 1})
    first = sim.create(order_body(sim))
    assert_error(sim.call("POST", ORDERS, body=order_body(sim)), 403, "148101")
    assert sim.set_status(first["uuid"], "CANCELLED").status_code == 204
    sim.create(order_body(sim))


def test_create_status_is_configurable(sim):
    sim.admin("POST", "config", json={"create_status": 200})
    assert sim.call("POST", ORDERS, body=order_body(sim)).status_code == 200


# Renewals


def renewal_body(sim, certhash, **changes):
    return order_body(sim, renewal={"digicertPreviousOrderId": 4242, "renewalOfCertificate": certhash}, **changes)


@pytest.mark.parametrize(
    "target, reason",
    [("fresh.example.com", "more than 60 days"), ("renewing.example.com", "already IN_RENEWAL"), (ISSUING_CA, "not a leaf")],
)
def test_renewal_rejects_ineligible_certificate(sim, target, reason):
    certhash = sim.seeded(target)["certhash"]
    assert_error(sim.call("POST", ORDERS, body=renewal_body(sim, certhash)), 400, "140006", reason)


def test_renewal_of_unknown_certificate_is_140006(sim):
    assert_error(sim.call("POST", ORDERS, body=renewal_body(sim, "cd" * 32)), 400, "140006", "not in the inventory")


def test_renewal_marks_certificate_in_renewal(sim):
    certhash = sim.seeded("expiring.example.com")["certhash"]
    order = sim.create(renewal_body(sim, certhash.upper()))
    assert order["renewal"] == {"digicertPreviousOrderId": 4242, "renewalOfCertificate": certhash}
    assert sim.seeded("expiring.example.com")["renewalStatus"] == "IN_RENEWAL"
    assert_error(sim.call("POST", ORDERS, body=renewal_body(sim, certhash)), 400, "140006", "already IN_RENEWAL")
    updated = sim.call("PUT", "%s/%s" % (ORDERS, order["uuid"]), body=renewal_body(sim, certhash, comment="same renewal"))
    assert updated.status_code == 200, updated.text
    assert sim.set_status(order["uuid"], "CANCELLED").status_code == 204
    assert sim.seeded("expiring.example.com")["renewalStatus"] is None


# Lifecycle and issuance


def test_lifecycle_issues_certificate_from_csr(sim):
    order = sim.create(order_body(sim, **{"certificate.signatureHash": "SHA-384"}))
    assert order["status"] == "SUBMITTED"
    assert order["caStatus"] == ""
    assert order["certificate"]["privateKey"] is None
    assert order["certificate"]["dnsNames"] == ["www.example.com", "api.example.com"]
    assert order["digicertOrganization"] == {"id": 525858}
    assert "digicertOrganizationId" not in order
    assert "comment" not in order
    assert order["requesterUserName"] == "requester"
    assert sim.set_status(order["uuid"], "APPROVED").status_code == 204
    assert sim.view(order["uuid"]).json()["status"] == "APPROVED"
    posted = sim.wait_for(order["uuid"], "POSTED")
    assert posted["caStatus"] == "pending"
    issued = sim.wait_for(order["uuid"], "ISSUED")
    assert issued["caStatus"] == "issued"
    assert issued["updated"].endswith("+0000")

    stored = sim.admin("GET", "orders/" + order["uuid"])["issuedCertificate"]
    certificate = x509.load_pem_x509_certificate(stored["pem"].encode())
    assert hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest() == stored["certhash"]
    assert certificate.public_key().public_numbers() == CLIENT_KEY.public_key().public_numbers()
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "www.example.com"
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA384)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert names == ["www.example.com", "api.example.com"]
    ca_certificate = x509.load_pem_x509_certificate(sim.ca()["pem"].encode())
    certificate.verify_directly_issued_by(ca_certificate)
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert 365 <= lifetime.days <= 366

    filters = {"filter": {"filters": [{"field": "certhash", "operator": "EQUALS", "value": stored["certhash"]}], "operation": "AND"}}
    listed = sim.call("POST", INVENTORY, body=filters).json()
    assert len(listed) == 1
    item = listed[0]
    assert item["type"] == "Leaf"
    assert item["subject"]["name"] == "www.example.com"
    assert item["issuer"]["name"] == ISSUING_CA
    assert item["serialNumber"] == format(certificate.serial_number, "x").zfill(len(item["serialNumber"]))
    assert item["validToDate"].endswith("+0000")
    assert item["validFromDate"] <= item["validToDate"]


def test_generated_csr_key_only_in_create_response(sim):
    created = sim.create(order_body(sim, csr=None, **{"validity": {"validityDays": 90}}))
    pem = created["certificate"]["privateKey"]
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048
    csr = x509.load_pem_x509_csr(created["certificate"]["encodedCSR"].encode())
    assert csr.public_key().public_numbers() == key.public_key().public_numbers()
    assert sim.view(created["uuid"]).json()["certificate"]["privateKey"] is None
    updated = sim.call("PUT", "%s/%s" % (ORDERS, created["uuid"]), body=order_body(sim, csr=None, comment="second", validity={"validityDays": 90}))
    assert updated.status_code == 200
    assert updated.json()["certificate"]["privateKey"] is None
    assert updated.json()["certificate"]["encodedCSR"] == created["certificate"]["encodedCSR"]
    assert "privateKey" not in json.dumps(sim.admin("GET", "orders")).replace('"privateKey": null', "")
    sim.set_status(created["uuid"], "APPROVED")
    sim.wait_for(created["uuid"], "ISSUED")
    certificate = x509.load_pem_x509_certificate(sim.admin("GET", "orders/" + created["uuid"])["issuedCertificate"]["pem"].encode())
    assert certificate.public_key().public_numbers() == key.public_key().public_numbers()
    assert (certificate.not_valid_after_utc - certificate.not_valid_before_utc).days == 90


def test_custom_expiration_date_sets_not_after(sim):
    date = (datetime.date.today() + datetime.timedelta(days=45)).isoformat()
    order = sim.create(order_body(sim, validity={"customExpirationDate": date}))
    assert order["validity"] == {"validityYears": None, "validityDays": None, "customExpirationDate": date}
    sim.admin("POST", "orders/%s/advance" % order["uuid"])
    sim.admin("POST", "orders/%s/advance" % order["uuid"])
    advanced = sim.admin("POST", "orders/%s/advance" % order["uuid"])
    assert advanced["status"] == "ISSUED"
    certificate = x509.load_pem_x509_certificate(advanced["issuedCertificate"]["pem"].encode())
    assert certificate.not_valid_after_utc.date().isoformat() == date


def test_advance_final_order_is_409(sim):
    order = sim.create(order_body(sim))
    sim.set_status(order["uuid"], "REJECTED")
    response = requests.post(sim.url + "/_sim/orders/%s/advance" % order["uuid"], timeout=10)
    assert response.status_code == 409


def test_wildcard_and_ev_orders(sim):
    wildcard = sim.create(order_body(sim, **{"digicertProductNameId": "ssl_wildcard", "certificate.commonName": "*.example.com"}))
    assert wildcard["certificate"]["commonName"] == "*.example.com"
    ev = sim.create(order_body(sim, digicertProductNameId="ssl_ev_securesite", digicertEVApproverUserIds=["1541521"]))
    assert ev["digicertEVApproverUserIds"] == ["1541521"]


# Updates


def test_update_submitted_order(sim):
    order = sim.create(order_body(sim))
    _key, new_csr = make_csr("www.example.com")
    body = order_body(sim, csr=new_csr, approverUserNames=["manager"], digicertProductNameId="ssl_ev_securesite", digicertEVApproverUserIds=["1551253"])
    response = sim.call("PUT", "%s/%s" % (ORDERS, order["uuid"]), body=body)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["digicertEVAApproverUserIds"] == ["1551253"]
    assert "digicertEVApproverUserIds" not in updated
    assert updated["approverUserNames"] == ["manager"]
    assert updated["certificate"]["encodedCSR"].strip() == new_csr.strip()
    assert updated["created"] == order["created"]
    viewed = sim.view(order["uuid"]).json()
    assert viewed["digicertEVApproverUserIds"] == ["1551253"]


def test_update_validates_full_body(sim):
    order = sim.create(order_body(sim))
    response = sim.call("PUT", "%s/%s" % (ORDERS, order["uuid"]), body=order_body(sim, validity=DELETE))
    assert_error(response, 400, "1903", "validity")


@pytest.mark.parametrize("status", ["APPROVED", "CANCELLED", "REJECTED"])
def test_update_after_submitted_is_1920(sim, status):
    order = sim.create(order_body(sim))
    assert sim.set_status(order["uuid"], status).status_code == 204
    response = sim.call("PUT", "%s/%s" % (ORDERS, order["uuid"]), body=order_body(sim))
    assert_error(response, 409, "1920", "API resource is not editable")


def test_update_posted_order_is_1920(sim):
    order = sim.create(order_body(sim))
    sim.set_status(order["uuid"], "APPROVED")
    sim.wait_for(order["uuid"], "POSTED")
    assert_error(sim.call("PUT", "%s/%s" % (ORDERS, order["uuid"]), body=order_body(sim)), 409, "1920")


def test_update_changing_ca_is_140002(sim):
    order = sim.create(order_body(sim))
    response = sim.call("PUT", "%s/%s" % (ORDERS, order["uuid"]), body=order_body(sim, ca=UNCONFIGURED_CA))
    assert_error(response, 400, "140002", "intermediateCA")


def test_update_same_ca_by_name_is_allowed(sim):
    order = sim.create(order_body(sim))
    response = sim.call("PUT", "%s/%s" % (ORDERS, order["uuid"]), body=order_body(sim, intermediateCA={"commonName": ISSUING_CA}))
    assert response.status_code == 200, response.text


def test_update_client_csr_to_generated_is_140002(sim):
    order = sim.create(order_body(sim))
    response = sim.call("PUT", "%s/%s" % (ORDERS, order["uuid"]), body=order_body(sim, csr=None))
    assert_error(response, 400, "140002", "autoGenerateCSR")


def test_update_enrollment_to_renewal_is_140007(sim):
    order = sim.create(order_body(sim))
    certhash = sim.seeded("expiring.example.com")["certhash"]
    response = sim.call("PUT", "%s/%s" % (ORDERS, order["uuid"]), body=renewal_body(sim, certhash))
    assert_error(response, 400, "140007")


def test_update_renewal_to_enrollment_is_140007(sim):
    order = sim.create(renewal_body(sim, sim.seeded("expiring.example.com")["certhash"]))
    assert_error(sim.call("PUT", "%s/%s" % (ORDERS, order["uuid"]), body=order_body(sim)), 400, "140007")


def test_update_unknown_order_is_148200(sim):
    assert_error(sim.call("PUT", ORDERS + "/00000000-0000-0000-0000-000000000000", body=order_body(sim)), 404, "148200")


def test_update_malformed_json_is_140001(sim):
    order = sim.create(order_body(sim))
    assert_error(sim.call("PUT", "%s/%s" % (ORDERS, order["uuid"]), data="{"), 400, "140001")


# Status changes


@pytest.mark.parametrize("user", ["approver", "manager", "pkiadmin"])
def test_approver_roles_may_approve(sim, user):
    order = sim.create(order_body(sim))
    response = sim.set_status(order["uuid"], "APPROVED", user=user)
    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize("status", ["CANCELLED", "REJECTED"])
def test_reject_or_cancel_is_final(sim, status):
    order = sim.create(order_body(sim))
    assert sim.set_status(order["uuid"], status).status_code == 204
    viewed = sim.view(order["uuid"]).json()
    assert viewed["status"] == status
    assert_error(sim.set_status(order["uuid"], "APPROVED"), 409, "1920")


@pytest.mark.parametrize("status", ["CANCELLED", "REJECTED", "APPROVED"])
def test_approved_order_cannot_change_status(sim, status):
    order = sim.create(order_body(sim))
    sim.set_status(order["uuid"], "APPROVED")
    assert_error(sim.set_status(order["uuid"], status), 409, "1920")


@pytest.mark.parametrize(
    "body, code, text",
    [
        ({"status": "APPROVED"}, "1903", "Missing required parameter(s): comment"),
        ({"status": "APPROVED", "comment": ""}, "1903", "comment"),
        ({}, "1903", "status, comment"),
        ({"status": "ISSUED", "comment": "x"}, "1905", "parameter status has invalid value ISSUED"),
        ({"status": "approved", "comment": "x"}, "1905", "approved"),
    ],
    ids=["no-comment", "empty-comment", "empty", "issued", "lowercase"],
)
def test_status_change_validation(sim, body, code, text):
    order = sim.create(order_body(sim))
    assert_error(sim.call("PUT", "%s/%s/status" % (ORDERS, order["uuid"]), "approver", body), 400, code, text)


def test_status_change_unknown_order_is_148200(sim):
    assert_error(sim.set_status("missing", "APPROVED"), 404, "148200")


def test_view_unknown_order_is_148200(sim):
    assert_error(sim.view("00000000-0000-0000-0000-000000000000"), 404, "148200", "Invalid certificate order")


# Permissions


def test_requester_cannot_change_status(sim):
    order = sim.create(order_body(sim))
    assert_error(sim.set_status(order["uuid"], "APPROVED", user="requester"), 403, "148100")
    assert_error(sim.set_status(order["uuid"], "CANCELLED", user="requester"), 403, "148100")


def test_permission_checked_before_order_lookup(sim):
    assert_error(sim.set_status("missing", "APPROVED", user="requester"), 403, "148100")


def test_auditor_may_only_read(sim):
    order = sim.create(order_body(sim))
    assert_error(sim.call("POST", ORDERS, "auditor", order_body(sim)), 403, "148100")
    assert_error(sim.call("PUT", "%s/%s" % (ORDERS, order["uuid"]), "auditor", order_body(sim)), 403, "148100")
    assert_error(sim.set_status(order["uuid"], "APPROVED", user="auditor"), 403, "148100")
    assert sim.view(order["uuid"], user="auditor").status_code == 200
    assert sim.call("POST", ENROLLMENT + "/products", "auditor", {"commonName": ISSUING_CA}).status_code == 200
    assert sim.call("POST", INVENTORY, "auditor", {}).status_code == 200


def test_unlicensed_user_gets_2012_everywhere(sim):
    order = sim.create(order_body(sim))
    calls = [
        ("POST", ORDERS, order_body(sim)),
        ("GET", "%s/%s" % (ORDERS, order["uuid"]), None),
        ("PUT", "%s/%s/status" % (ORDERS, order["uuid"]), {"status": "APPROVED", "comment": "x"}),
        ("POST", ENROLLMENT + "/organizations", {"commonName": ISSUING_CA}),
        ("POST", INVENTORY, {}),
        ("POST", ORDERS, {}),
    ]
    for method, path, body in calls:
        assert_error(sim.call(method, path, "nolicense", body), 403, "2012", "User license is not authorized to run this API.")


# DigiCert list calls and inventory


def test_list_calls_return_catalog(sim):
    organizations = sim.call("POST", ENROLLMENT + "/organizations", body={"certhash": sim.ca()["certhash"]}).json()["organizations"]
    assert [organization["id"] for organization in organizations] == [525858, 612345, 700001]
    assert organizations[0] == {"id": 525858, "status": "active", "name": "Qualys, Inc", "assumedName": None, "displayName": "Qualys, Inc", "active": True}
    products = sim.call("POST", ENROLLMENT + "/products", body={"commonName": ISSUING_CA}).json()["products"]
    assert {product["nameId"] for product in products} >= {"private_ssl_plus", "ssl_plus", "ssl_wildcard", "ssl_ev_securesite"}
    approvers = sim.call("POST", ENROLLMENT + "/evApprovers", body={"serialNumber": sim.ca()["serialNumber"]}).json()["evApprovers"]
    assert approvers[0] == {"userId": "1541521", "name": "John White", "firstName": "John", "lastName": "White"}


@pytest.mark.parametrize(
    "body, status, code",
    [({}, 400, "1922"), ({"commonName": "Nope"}, 400, "1905"), ({"commonName": UNCONFIGURED_CA}, 400, "140005"), ({"commonName": PRIVATE_CA}, 400, "140004")],
    ids=["no-keys", "unknown", "unconfigured", "private"],
)
def test_list_call_errors(sim, body, status, code):
    for endpoint in ("organizations", "products", "evApprovers"):
        assert_error(sim.call("POST", ENROLLMENT + "/" + endpoint, body=body), status, code)


def test_inventory_filters_and_pages(sim):
    everything = sim.call("POST", INVENTORY, body={"pageSize": 100}).json()
    assert len(everything) == 8
    types = sorted(item["type"] for item in everything)
    assert types == ["Intermediate"] * 3 + ["Leaf"] * 3 + ["Root"] * 2
    leaves = {"filter": {"filters": [{"field": "certificate.type", "operator": "EQUALS", "value": "Leaf"}]}, "pageSize": 2}
    first = sim.call("POST", INVENTORY, body=dict(leaves, pageNumber=0)).json()
    second = sim.call("POST", INVENTORY, body=dict(leaves, pageNumber=1)).json()
    third = sim.call("POST", INVENTORY, body=dict(leaves, pageNumber=2)).json()
    assert (len(first), len(second), third) == (2, 1, [])
    soon = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    expiring = {
        "filter": {
            "filters": [
                {"field": "type", "operator": "EQUALS", "value": "Leaf"},
                {"field": "validToDate", "operator": "LESSER", "value": soon},
                {"field": "subject.name", "operator": "CONTAINS", "value": "EXPIRING"},
            ],
            "operation": "AND",
        }
    }
    assert [item["subject"]["name"] for item in sim.call("POST", INVENTORY, body=expiring).json()] == ["expiring.example.com"]
    v21 = sim.call("POST", "/certview/v2.1/certificates", body={"pageSize": 100}).json()
    assert len(v21) == 8


@pytest.mark.parametrize(
    "body, text",
    [
        ({"filter": {"filters": [{"field": "colour", "operator": "EQUALS", "value": "x"}]}}, "filter.filters.field"),
        ({"filter": {"filters": [{"field": "type", "operator": "LIKE", "value": "x"}]}}, "filter.filters.operator"),
        ({"filter": {"filters": [{"field": "validToDate", "operator": "GREATER", "value": "9" * 40}]}}, "filter.filters.value"),
        ({"filter": {"filters": [{"field": "validToDate", "operator": "LESSER", "value": "soon"}]}}, "filter.filters.value"),
        ({"pageSize": 0}, "pageSize"),
        ({"pageNumber": -1}, "pageNumber"),
    ],
    ids=["field", "operator", "epoch-overflow", "not-a-date", "page-size", "page-number"],
)
def test_inventory_rejects_bad_query(sim, body, text):
    assert_error(sim.call("POST", INVENTORY, body=body), 400, "1905", text)


# Faults


def test_fault_429_with_retry_after_is_used_once(sim):
    sim.inject({"kind": "status", "method": "POST", "path": "/orders$", "status": 429, "retry_after": 7})
    limited = sim.call("POST", ORDERS, body=order_body(sim))
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert error_of(limited)[0] == "429"
    assert sim.admin("GET", "orders") == []
    assert sim.call("POST", ORDERS, body=order_body(sim)).status_code == 201
    assert sim.admin("GET", "faults") == {"faults": []}


def test_fault_503_times_and_custom_error(sim):
    sim.inject({"kind": "status", "path": "/orders/", "status": 503, "times": 2, "code": "999", "text": "maintenance"})
    order = sim.create(order_body(sim))
    first = sim.view(order["uuid"])
    second = sim.view(order["uuid"])
    assert_error(first, 503, "999", "maintenance")
    assert_error(second, 503, "999")
    assert sim.view(order["uuid"]).status_code == 200


def test_fault_matches_method(sim):
    sim.inject({"kind": "status", "method": "PUT", "path": "/orders", "status": 500})
    assert sim.create(order_body(sim))["status"] == "SUBMITTED"
    assert sim.admin("GET", "faults")["faults"][0]["hits"] == 0


def test_fault_drop_after_creates_order_without_answer(sim):
    sim.inject({"kind": "drop_after", "method": "POST", "path": "/orders$"})
    with pytest.raises(requests.exceptions.ConnectionError):
        sim.call("POST", ORDERS, body=order_body(sim))
    orders = sim.admin("GET", "orders")
    assert len(orders) == 1
    assert orders[0]["status"] == "SUBMITTED"
    entry = sim.log()[-1]
    assert (entry["fault"], entry["status"], entry["handled_status"]) == ("drop_after", None, 201)
    assert entry["json"]["certificate"]["commonName"] == "www.example.com"


def test_fault_drop_before_creates_nothing(sim):
    sim.inject({"kind": "drop_before", "method": "POST", "path": "/orders$"})
    with pytest.raises(requests.exceptions.ConnectionError):
        sim.call("POST", ORDERS, body=order_body(sim))
    assert sim.admin("GET", "orders") == []
    assert sim.log()[-1]["status"] is None


def test_fault_delay_causes_read_timeout_but_order_exists(sim):
    sim.inject({"kind": "delay", "method": "POST", "path": "/orders$", "seconds": 0.6})
    with pytest.raises(requests.exceptions.ReadTimeout):
        sim.call("POST", ORDERS, body=order_body(sim), timeout=0.2)
    deadline = time.monotonic() + 3
    while not sim.admin("GET", "orders") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sim.admin("GET", "orders")) == 1


def test_fault_malformed_body(sim):
    sim.inject({"kind": "malformed", "method": "POST", "path": "/orders$"})
    response = sim.call("POST", ORDERS, body=order_body(sim))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        response.json()
    assert sim.admin("GET", "orders") == []


def test_fault_malformed_after_handling_creates_order(sim):
    sim.inject({"kind": "malformed", "method": "POST", "path": "/orders$", "after": True})
    response = sim.call("POST", ORDERS, body=order_body(sim))
    assert response.status_code == 200
    assert len(sim.admin("GET", "orders")) == 1
    assert sim.log()[-1]["handled_status"] == 201


def test_fault_html_page(sim):
    sim.inject({"kind": "html", "path": "/orders/", "status": 504, "retry_after": "2"})
    response = sim.view("whatever")
    assert response.status_code == 504
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Retry-After"] == "2"
    assert "<h1>504 Gateway Timeout</h1>" in response.text


def test_fault_empty_body(sim):
    sim.inject({"kind": "empty", "method": "POST", "path": "/orders$"})
    response = sim.call("POST", ORDERS, body=order_body(sim))
    assert response.status_code == 200
    assert response.content == b""


def test_fault_on_auth(sim):
    sim.inject({"kind": "status", "method": "POST", "path": "^/auth$", "status": 503})
    response = requests.post(sim.url + "/auth", data={"username": "requester", "password": "requester-pass", "token": "true"}, timeout=10)
    assert response.status_code == 503
    assert sim.login("requester")


@pytest.mark.parametrize(
    "fault",
    [{"kind": "explode"}, {"kind": "status", "status": 99}, {"kind": "delay", "seconds": -1}, {"kind": "status", "path": "("}, {"kind": "status", "colour": 1}],
    ids=["kind", "status", "seconds", "regex", "unknown-field"],
)
def test_bad_fault_definition_is_400(sim, fault):
    response = requests.post(sim.url + "/_sim/faults", json={"faults": [fault]}, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]


# Error format, admin endpoints and concurrency


def test_json_error_format(sim):
    sim.admin("POST", "config", json={"error_format": "json"})
    response = sim.call("POST", ORDERS, body=order_body(sim, **{"certificate.signatureHash": "MD5"}))
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "errorCode": "1905",
        "message": "parameter certificate.signatureHash has invalid value MD5 (accepted values: SHA-256, SHA-384, SHA-512)",
    }


def test_xml_error_shape(sim):
    response = sim.call("POST", ORDERS, body=order_body(sim, **{"certificate.signatureHash": "MD5"}))
    root = ElementTree.fromstring(response.content)
    assert [child.tag for child in root.find("RESPONSE")] == ["DATETIME", "CODE", "TEXT"]


def test_reset_restores_state_and_keeps_cas(sim):
    certhash = sim.ca()["certhash"]
    token = sim.token("requester")
    sim.create(order_body(sim))
    sim.admin("POST", "config", json={"error_format": "json", "issue_delay": 9})
    sim.inject({"kind": "status"})
    sim.admin("POST", "reset")
    assert sim.admin("GET", "orders") == []
    assert sim.admin("GET", "requests") == []
    assert sim.admin("GET", "faults") == {"faults": []}
    assert sim.admin("GET", "config")["error_format"] == "xml"
    assert sim.admin("GET", "config")["issue_delay"] == FAST["issue_delay"]
    assert sim.ca()["certhash"] == certhash
    response = requests.get(sim.url + ORDERS + "/x", headers={"Authorization": "Bearer " + token}, timeout=10)
    assert response.status_code == 401


def test_bad_config_is_400(sim):
    for settings in ({"error_format": "yaml"}, {"issue_delay": -1}, {"colour": "blue"}, {"license_limit": "3"}):
        response = requests.post(sim.url + "/_sim/config", json=settings, timeout=10)
        assert response.status_code == 400, settings


def test_request_log_records_calls(sim):
    order = sim.create(order_body(sim))
    sim.view(order["uuid"], user="auditor")
    sim.call("POST", ORDERS, data="{oops")
    entries = sim.log()
    assert [(entry["method"], entry["status"], entry["user"]) for entry in entries] == [
        ("POST", 201, "requester"),
        ("GET", 200, "auditor"),
        ("POST", 400, "requester"),
    ]
    assert entries[0]["json"]["digicertProductNameId"] == "ssl_plus"
    assert entries[2]["json"] is None
    assert entries[2]["raw"] == "{oops"
    assert "Bearer" not in json.dumps(sim.admin("GET", "requests"))
    since = sim.admin("GET", "requests?since=%d" % entries[1]["seq"])
    assert [entry["seq"] for entry in since] == [entries[2]["seq"]]


def test_concurrent_creates_are_distinct(sim):
    results = []

    def create():
        results.append(sim.call("POST", ORDERS, body=order_body(sim)).json()["uuid"])

    threads = [threading.Thread(target=create) for _index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 8
    assert len(sim.admin("GET", "orders")) == 8


# TLS and the command line


def test_tls_server_with_generated_ca(tmp_path):
    with SimulatorServer(tls=True, state_dir=str(tmp_path), **FAST) as server:
        assert server.url.startswith("https://127.0.0.1:")
        assert os.path.exists(tmp_path / "ca.pem")
        sim = Sim(server)
        assert sim.login("requester")
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.url + "/_sim/health", timeout=10)
        localhost = server.url.replace("127.0.0.1", "localhost")
        assert requests.get(localhost + "/_sim/health", verify=server.ca_path, timeout=10).json() == {"status": "ok"}
        order = sim.create(order_body(sim))
        sim.set_status(order["uuid"], "APPROVED")
        assert sim.wait_for(order["uuid"], "ISSUED")["status"] == "ISSUED"
        sim.inject({"kind": "drop_after", "method": "GET", "path": "/orders/"})
        with pytest.raises(requests.exceptions.ConnectionError):
            sim.view(order["uuid"])
        certificate = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
        assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_command_line_prints_url_and_port_file(tmp_path):
    port_file = tmp_path / "url"
    environment = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
    command = [sys.executable, "-m", "certview_simulator", "--port", "0", "--port-file", str(port_file), "--issue-delay", "0.1", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=environment)
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("certview-simulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        assert port_file.read_text().strip() == url
        assert requests.get(url + "/_sim/config", timeout=10).json()["issue_delay"] == 0.1
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
    assert process.returncode == 0
    assert not port_file.exists()

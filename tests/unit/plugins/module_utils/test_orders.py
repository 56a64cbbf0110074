"""Option checks, comparison and request bodies of plugins/module_utils/orders.py."""

import datetime

import pytest

from ansible_collections.qualys.certview.plugins.module_utils import orders

CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBcsr\n-----END CERTIFICATE REQUEST-----\n"

ORDER = {
    "uuid": "cb95d100-ec30-11ea-920d-eb66140967e3",
    "intermediateCA": {"name": "DigiCert Test SHA2 Intermediate CA-1", "certhash": "a" * 64},
    "approverUserNames": ["approver", "manager"],
    "requesterUserName": "requester",
    "certificate": {
        "commonName": "www.example.test",
        "organizationUnits": ["QA", "Web"],
        "signatureHash": "SHA-256",
        "encodedCSR": CSR,
        "privateKey": None,
        "dnsNames": None,
    },
    "renewal": None,
    "validity": {"validityYears": 1, "validityDays": None, "customExpirationDate": None},
    "digicertOrganization": {"id": 525858},
    "digicertProductNameId": "private_ssl_plus",
    "digicertEVApproverUserIds": None,
    "status": "SUBMITTED",
    "caStatus": "",
}


def options(**values):
    return orders.validate_order_options(values, creating=False)


def create_options(**overrides):
    values = {
        "common_name": "www.example.test",
        "approver_user_names": ["approver"],
        "intermediate_ca": {"common_name": "DigiCert Test SHA2 Intermediate CA-1"},
        "signature_hash": "sha256",
        "organization_id": 525858,
        "product_name_id": "private_ssl_plus",
        "csr": CSR,
        "validity_years": 1,
    }
    values.update(overrides)
    return orders.validate_order_options(values, creating=True)


@pytest.mark.parametrize("given, expected", [("SHA-256", "SHA-256"), ("sha256", "SHA-256"), ("Sha_384", "SHA-384"), (" sha-512 ", "SHA-512")])
def test_signature_hash_spellings(given, expected):
    assert orders.normalize_signature_hash(given) == expected


def test_signature_hash_invalid_names_option():
    with pytest.raises(orders.OrderInputError) as raised:
        orders.normalize_signature_hash("MD5")
    assert "signature_hash" in str(raised.value)
    assert "'MD5'" in str(raised.value)
    assert "SHA-384" in str(raised.value)


def test_create_missing_options_listed_together():
    with pytest.raises(orders.OrderInputError) as raised:
        orders.validate_order_options({"common_name": "a.example.test"}, creating=True)
    message = str(raised.value)
    for name in ("approver_user_names", "intermediate_ca", "signature_hash", "organization_id", "product_name_id", "csr or auto_generate_csr"):
        assert name in message
    assert "validity_years or validity_days or custom_expiration_date" in message


def test_update_needs_no_fields():
    assert orders.validate_order_options({}, creating=False)["common_name"] is None


@pytest.mark.parametrize(
    "overrides, option",
    [
        ({"validity_years": 4}, "validity_years"),
        ({"validity_years": None, "validity_days": 0}, "validity_days"),
        ({"validity_years": None, "custom_expiration_date": "31/12/2030"}, "custom_expiration_date"),
        ({"validity_years": None, "custom_expiration_date": "2020-01-01"}, "custom_expiration_date"),
        ({"intermediate_ca": {"certhash": "abc"}}, "intermediate_ca.certhash"),
        ({"renewal_of_certificate": "zz", "previous_order_id": 1}, "renewal_of_certificate"),
        ({"csr": "not a csr"}, "csr"),
        ({"csr": None, "auto_generate_csr": False}, "auto_generate_csr"),
    ],
)
def test_invalid_values_name_option(overrides, option):
    with pytest.raises(orders.OrderInputError) as raised:
        create_options(**overrides)
    assert option in str(raised.value)


def test_expiration_date_normalized_from_timestamp():
    result = create_options(validity_years=None, custom_expiration_date="2099-05-01T00:00:00.000+0000")
    assert result["custom_expiration_date"] == "2099-05-01"


def test_expiration_date_today_is_rejected():
    today = datetime.date(2030, 1, 1)
    with pytest.raises(orders.OrderInputError):
        orders.validate_order_options({"custom_expiration_date": "2030-01-01"}, creating=False, today=today)


def test_create_body_uses_api_names():
    body = orders.build_create_body(create_options(organization_units=["QA"], ev_approver_user_ids=[1541521], comment="first"))
    assert body["certificate"] == {"commonName": "www.example.test", "organizationUnits": ["QA"], "signatureHash": "SHA-256", "csr": {"encodedCSR": CSR}}
    assert body["intermediateCA"] == {"commonName": "DigiCert Test SHA2 Intermediate CA-1"}
    assert body["validity"] == {"validityYears": 1}
    assert body["digicertOrganizationId"] == 525858
    assert body["digicertProductNameId"] == "private_ssl_plus"
    assert body["digicertEVApproverUserIds"] == ["1541521"]
    assert body["comment"] == "first"
    assert "renewal" not in body


def test_create_body_renewal():
    body = orders.build_create_body(create_options(renewal_of_certificate="b" * 64, previous_order_id=12))
    assert body["renewal"] == {"renewalOfCertificate": "b" * 64, "digicertPreviousOrderId": 12}


def test_compare_matching_order_is_empty():
    wanted = options(
        approver_user_names=["manager", "approver"],
        organization_units=["Web", "QA"],
        signature_hash="sha256",
        common_name="WWW.example.test",
        csr=CSR.replace("\n", "\r\n"),
        validity_years=1,
        organization_id=525858,
        intermediate_ca={"certhash": "A" * 64, "common_name": None, "serial_number": None},
    )
    assert orders.compare_order(wanted, ORDER) == ({}, {})


def test_compare_reports_only_differing_options():
    before, after = orders.compare_order(options(approver_user_names=["approver"], product_name_id="private_ssl_plus"), ORDER)
    assert before == {"approver_user_names": ["approver", "manager"]}
    assert after == {"approver_user_names": ["approver"]}


def test_compare_validity_switch_clears_old_value():
    before, after = orders.compare_order(options(validity_days=90), ORDER)
    assert before == {"validity_days": None, "validity_years": 1}
    assert after == {"validity_days": 90, "validity_years": None}


def test_compare_ignores_uncompared_options():
    assert orders.compare_order(options(comment="new comment", auto_generate_csr=True), ORDER) == ({}, {})


def test_compare_ev_ids_either_spelling():
    order = dict(ORDER, digicertEVApproverUserIds=None, digicertEVAApproverUserIds=[1551253, "1541521"])
    assert orders.compare_order(options(ev_approver_user_ids=["1541521", "1551253"]), order) == ({}, {})


def test_compare_other_ca_differs():
    before, after = orders.compare_order(options(intermediate_ca={"common_name": "Other CA", "certhash": None, "serial_number": None}), ORDER)
    assert after == {"intermediate_ca": {"common_name": "Other CA"}}
    assert before["intermediate_ca"]["common_name"] == "DigiCert Test SHA2 Intermediate CA-1"


def test_update_body_keeps_unset_fields():
    body = orders.build_update_body(options(approver_user_names=["approver"], comment="why"), ORDER)
    assert body["approverUserNames"] == ["approver"]
    assert body["certificate"]["commonName"] == "www.example.test"
    assert body["certificate"]["organizationUnits"] == ["QA", "Web"]
    assert body["certificate"]["csr"] == {"encodedCSR": CSR, "autoGenerateCSR": False}
    assert body["validity"] == {"validityYears": 1}
    assert body["digicertOrganizationId"] == 525858
    assert body["intermediateCA"] == {"certhash": "a" * 64}
    assert body["comment"] == "why"
    assert "digicertEVApproverUserIds" not in body
    assert "renewal" not in body


def test_update_body_replaces_validity():
    body = orders.build_update_body(options(validity_days=30), ORDER)
    assert body["validity"] == {"validityDays": 30}


def test_order_result_drops_private_key_and_snake_cases():
    order = dict(ORDER, certificate=dict(ORDER["certificate"], privateKey="-----BEGIN PRIVATE KEY-----secret"))
    order["digicertEVAApproverUserIds"] = ["1"]
    result = orders.order_result(order)
    assert "private_key" not in result["certificate"]
    assert result["ca_status"] == ""
    assert result["digicert_organization"] == {"id": 525858}
    assert "secret" not in repr(result)
    assert "digicert_eva_approver_user_ids" not in result


@pytest.mark.parametrize("value", ["", "   ", "../", "../../_sim/reset", "abc?x=1#f", "cb95d100ec3011ea920deb66140967e3"])
def test_uuid_invalid_forms_rejected(value):
    with pytest.raises(orders.OrderInputError) as raised:
        orders.validate_uuid(value)
    assert "option uuid" in str(raised.value)


def test_uuid_canonical_form_accepted():
    assert orders.validate_uuid(" CB95D100-EC30-11EA-920D-EB66140967E3 ") == "CB95D100-EC30-11EA-920D-EB66140967E3"


@pytest.mark.parametrize(
    "overrides, option",
    [
        ({"common_name": ""}, "common_name"),
        ({"common_name": "   "}, "common_name"),
        ({"common_name": "w\u00fcw.ex\u00e4mple.com"}, "common_name"),
        ({"common_name": "a b.example.test"}, "common_name"),
        ({"approver_user_names": [""]}, "approver_user_names"),
        ({"organization_units": ["QA", " "]}, "organization_units"),
        ({"ev_approver_user_ids": [""]}, "ev_approver_user_ids"),
        ({"product_name_id": ""}, "product_name_id"),
        ({"product_name_id": "  "}, "product_name_id"),
        ({"organization_id": 0}, "organization_id"),
        ({"organization_id": -5}, "organization_id"),
        ({"renewal_of_certificate": "b" * 64, "previous_order_id": -1}, "previous_order_id"),
        ({"intermediate_ca": {"common_name": ""}}, "intermediate_ca.common_name"),
        ({"validity_years": None, "custom_expiration_date": "2099-06-01garbage"}, "custom_expiration_date"),
    ],
)
def test_blank_and_malformed_values_rejected(overrides, option):
    with pytest.raises(orders.OrderInputError) as raised:
        create_options(**overrides)
    assert option in str(raised.value)


@pytest.mark.parametrize("common_name", ["www.example.test", "*.example.test", "xn--ww-fka.example.com", "_acme.example.test"])
def test_common_name_dns_forms_accepted(common_name):
    assert create_options(common_name=common_name)["common_name"] == common_name


@pytest.mark.parametrize("value", ["2099-05-01", "2099-05-01T10:00:00Z", "2099-05-01T10:00:00.473+0000", "2099-05-01T10:00+02:00"])
def test_expiration_date_forms_accepted(value):
    assert create_options(validity_years=None, custom_expiration_date=value)["custom_expiration_date"] == "2099-05-01"

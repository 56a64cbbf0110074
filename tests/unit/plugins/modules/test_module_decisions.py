"""Decisions of the three modules, run in-process with a fake client in place of HTTP."""

import copy
import json
import os
import stat

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.qualys.certview.plugins.module_utils.api import CertViewAPIError
from ansible_collections.qualys.certview.plugins.modules import certview_digicert_info, certview_order, certview_order_status

CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBcsr\n-----END CERTIFICATE REQUEST-----\n"
UUID = "cb95d100-ec30-11ea-920d-eb66140967e3"
CONNECTION = {"gateway_url": "https://gateway.invalid", "username": "requester", "password": "requester-pass"}

ORDER = {
    "uuid": UUID,
    "intermediateCA": {"name": "DigiCert Test SHA2 Intermediate CA-1", "certhash": "a" * 64},
    "approverUserNames": ["approver"],
    "certificate": {"commonName": "www.example.test", "organizationUnits": [], "signatureHash": "SHA-256", "encodedCSR": CSR, "privateKey": None},
    "renewal": None,
    "validity": {"validityYears": 1, "validityDays": None, "customExpirationDate": None},
    "digicertOrganization": {"id": 525858},
    "digicertProductNameId": "private_ssl_plus",
    "digicertEVApproverUserIds": None,
    "status": "SUBMITTED",
    "caStatus": "",
}


class FakeClient:
    """Fake client that records its calls and returns copies of a stored order."""

    def __init__(self, order=None, create_response=None, error=None):
        self.order = copy.deepcopy(order)
        self.create_response = create_response
        self.error = error
        self.calls = []

    def get_order(self, uuid):
        self.calls.append(("get_order", uuid))
        if self.error:
            raise self.error
        return copy.deepcopy(self.order)

    def create_order(self, body):
        self.calls.append(("create_order", body))
        if self.error:
            raise self.error
        return copy.deepcopy(self.create_response)

    def update_order(self, uuid, body):
        self.calls.append(("update_order", uuid, body))
        return dict(copy.deepcopy(self.order), approverUserNames=body["approverUserNames"])

    def set_order_status(self, uuid, status, comment):
        self.calls.append(("set_order_status", uuid, status, comment))

    def wait_for_order(self, uuid, **kwargs):
        self.calls.append(("wait_for_order", uuid, kwargs))
        return dict(copy.deepcopy(self.order), status="ISSUED", caStatus="issued")

    def list_products(self, ca):
        self.calls.append(("list_products", ca))
        return [{"nameId": "ssl_plus", "groupName": "ssl", "name": "Standard SSL", "type": "ssl_certificate", "sslCertificateType": None}]

    def writes(self):
        return [call for call in self.calls if call[0] in ("create_order", "update_order", "set_order_status")]


def run_module(module, args, client, monkeypatch, capsys):
    """Run a module's main() and return (exit code, result)."""
    monkeypatch.setattr(module, "client_from_module", lambda *unused, **unused_kw: client)
    with patch_module_args(dict(CONNECTION, **args)):
        with pytest.raises(SystemExit) as exited:
            module.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def order_args(**overrides):
    args = {
        "common_name": "www.example.test",
        "approver_user_names": ["approver"],
        "intermediate_ca": {"common_name": "DigiCert Test SHA2 Intermediate CA-1"},
        "organization_id": 525858,
        "product_name_id": "private_ssl_plus",
        "signature_hash": "SHA-256",
        "validity_years": 1,
        "csr": CSR,
    }
    args.update(overrides)
    return args


@pytest.mark.parametrize(
    "current, target, expected",
    [
        ("SUBMITTED", "APPROVED", True),
        ("APPROVED", "APPROVED", False),
        ("POSTED", "APPROVED", False),
        ("ISSUED", "APPROVED", False),
        ("SUBMITTED", "CANCELLED", True),
        ("CANCELLED", "CANCELLED", False),
        ("SUBMITTED", "REJECTED", True),
    ],
)
def test_plan_status_change(current, target, expected):
    assert certview_order_status.plan_status_change(current, target) is expected


@pytest.mark.parametrize(
    "current, target, reason",
    [
        ("APPROVED", "CANCELLED", "once approved"),
        ("ISSUED", "REJECTED", "once approved"),
        ("REJECTED", "APPROVED", "cannot be approved"),
        ("REJECTED", "CANCELLED", "already REJECTED"),
    ],
)
def test_plan_status_change_rejected(current, target, reason):
    with pytest.raises(ValueError) as raised:
        certview_order_status.plan_status_change(current, target)
    assert reason in str(raised.value)


def test_approve_order_already_approved(monkeypatch, capsys):
    client = FakeClient(dict(ORDER, status="APPROVED"))
    code, result = run_module(certview_order_status, {"uuid": UUID, "state": "approved", "comment": "ok"}, client, monkeypatch, capsys)
    assert code == 0
    assert result["changed"] is False
    assert client.writes() == []


def test_cancel_approved_order_fails(monkeypatch, capsys):
    client = FakeClient(dict(ORDER, status="APPROVED"))
    code, result = run_module(certview_order_status, {"uuid": UUID, "state": "cancelled", "comment": "stop"}, client, monkeypatch, capsys)
    assert code == 1
    assert "once approved" in result["msg"]
    assert client.writes() == []


def test_approve_check_mode_sends_nothing(monkeypatch, capsys):
    client = FakeClient(ORDER)
    args = {"uuid": UUID, "state": "approved", "comment": "ok", "wait": True, "_ansible_check_mode": True}
    code, result = run_module(certview_order_status, args, client, monkeypatch, capsys)
    assert code == 0
    assert result["changed"] is True
    assert result["status"] == "APPROVED"
    assert [call[0] for call in client.calls] == ["get_order"]


def test_approve_then_wait(monkeypatch, capsys):
    client = FakeClient(ORDER)
    args = {"uuid": UUID, "state": "approved", "comment": "ok", "wait": True, "wait_timeout": 30, "poll_interval": 2}
    code, result = run_module(certview_order_status, args, client, monkeypatch, capsys)
    assert code == 0
    assert result["changed"] is True
    assert result["status"] == "ISSUED"
    assert client.calls[1] == ("set_order_status", UUID, "APPROVED", "ok")
    wait_options = client.calls[2][2]
    assert wait_options["timeout"] == 30
    assert wait_options["interval"] == 2
    assert wait_options["failures"] == ("REJECTED", "CANCELLED")


def test_state_without_comment_fails(monkeypatch, capsys):
    client = FakeClient(ORDER)
    code, result = run_module(certview_order_status, {"uuid": UUID, "state": "approved"}, client, monkeypatch, capsys)
    assert code == 1
    assert "comment" in result["msg"]
    assert client.calls == []


def test_order_matching_is_unchanged(monkeypatch, capsys):
    client = FakeClient(ORDER)
    code, result = run_module(certview_order, order_args(uuid=UUID, signature_hash="sha256"), client, monkeypatch, capsys)
    assert code == 0
    assert result["changed"] is False
    assert client.writes() == []


def test_order_update_sends_put(monkeypatch, capsys):
    client = FakeClient(ORDER)
    code, result = run_module(certview_order, {"uuid": UUID, "approver_user_names": ["manager"], "_ansible_diff": True}, client, monkeypatch, capsys)
    assert code == 0
    assert result["changed"] is True
    assert result["diff"] == {"before": {"approver_user_names": ["approver"]}, "after": {"approver_user_names": ["manager"]}}
    assert client.writes()[0][2]["approverUserNames"] == ["manager"]


def test_order_update_posted_check_mode_predicts_1920(monkeypatch, capsys):
    client = FakeClient(dict(ORDER, status="POSTED"))
    args = {"uuid": UUID, "approver_user_names": ["manager"], "_ansible_check_mode": True}
    code, result = run_module(certview_order, args, client, monkeypatch, capsys)
    assert code == 1
    assert result["error_code"] == "1920"
    assert client.writes() == []


def test_order_posted_matching_is_unchanged(monkeypatch, capsys):
    client = FakeClient(dict(ORDER, status="ISSUED"))
    code, result = run_module(certview_order, {"uuid": UUID, "approver_user_names": ["approver"]}, client, monkeypatch, capsys)
    assert code == 0
    assert result["changed"] is False


def test_order_create_check_mode(monkeypatch, capsys):
    client = FakeClient()
    code, result = run_module(certview_order, order_args(_ansible_check_mode=True), client, monkeypatch, capsys)
    assert code == 0
    assert result["changed"] is True
    assert client.calls == []


def test_order_create_writes_service_key(monkeypatch, capsys, tmp_path):
    key = "-----BEGIN PRIVATE KEY-----\nMIIEsecretkeymaterial\n-----END PRIVATE KEY-----"
    response = dict(ORDER, certificate=dict(ORDER["certificate"], privateKey=key))
    client = FakeClient(create_response=response)
    key_path = tmp_path / "www.key"
    args = order_args(csr=None, auto_generate_csr=True, private_key_path=str(key_path))
    code, result = run_module(certview_order, args, client, monkeypatch, capsys)
    assert code == 0
    assert key_path.read_text() == key + "\n"
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    assert "secretkeymaterial" not in json.dumps(result)
    assert client.calls[0][1]["certificate"]["csr"] == {"autoGenerateCSR": True}


def test_order_create_error_removes_reserved_key_file(monkeypatch, capsys, tmp_path):
    error = CertViewAPIError("POST /orders failed: HTTP 400, error 1905: bad", http_status=400, error_code="1905", error_text="bad",
                             method="POST", path="/orders")
    client = FakeClient(error=error)
    key_path = tmp_path / "www.key"
    code, result = run_module(certview_order, order_args(csr=None, auto_generate_csr=True, private_key_path=str(key_path)), client, monkeypatch, capsys)
    assert code == 1
    assert result["error_code"] == "1905"
    assert not key_path.exists()


def test_order_create_auto_needs_key_path(monkeypatch, capsys):
    client = FakeClient()
    code, result = run_module(certview_order, order_args(csr=None, auto_generate_csr=True), client, monkeypatch, capsys)
    assert code == 1
    assert "private_key_path" in result["msg"]
    assert client.calls == []


def test_order_csr_and_auto_conflict(monkeypatch, capsys):
    client = FakeClient()
    code, result = run_module(certview_order, order_args(auto_generate_csr=True, private_key_path="/tmp/x.key"), client, monkeypatch, capsys)
    assert code == 1
    assert "auto_generate_csr" in result["msg"]
    assert client.calls == []


def test_digicert_info_gathers_requested_lists(monkeypatch, capsys):
    client = FakeClient()
    args = {"intermediate_ca": {"certhash": "a" * 64}, "gather": ["products"]}
    code, result = run_module(certview_digicert_info, args, client, monkeypatch, capsys)
    assert code == 0
    assert result["products"][0]["name_id"] == "ssl_plus"
    assert "organizations" not in result
    assert client.calls == [("list_products", {"certhash": "a" * 64})]


def test_approve_check_mode_message_says_would(monkeypatch, capsys):
    client = FakeClient(ORDER)
    args = {"uuid": UUID, "state": "approved", "comment": "ok", "_ansible_check_mode": True}
    code, result = run_module(certview_order_status, args, client, monkeypatch, capsys)
    assert code == 0
    assert result["msg"].startswith("Would set order")


@pytest.mark.parametrize("module", [certview_order, certview_order_status])
def test_blank_uuid_fails_before_request(module, monkeypatch, capsys):
    client = FakeClient(ORDER)
    args = {"uuid": "  "} if module is certview_order else {"uuid": "../../x"}
    code, result = run_module(module, args, client, monkeypatch, capsys)
    assert code == 1
    assert "option uuid" in result["msg"]
    assert "exception" not in result
    assert client.calls == []


def test_empty_wait_for_fails_before_request(monkeypatch, capsys):
    client = FakeClient(ORDER)
    code, result = run_module(certview_order_status, {"uuid": UUID, "wait": True, "wait_for": []}, client, monkeypatch, capsys)
    assert code == 1
    assert "wait_for" in result["msg"]
    assert client.calls == []


def test_order_check_mode_predicts_ca_change_140002(monkeypatch, capsys):
    client = FakeClient(ORDER)
    args = {"uuid": UUID, "intermediate_ca": {"common_name": "Other CA"}, "_ansible_check_mode": True}
    code, result = run_module(certview_order, args, client, monkeypatch, capsys)
    assert code == 1
    assert result["error_code"] == "140002"
    assert client.writes() == []


def test_digicert_info_blank_ca_fails_before_request(monkeypatch, capsys):
    client = FakeClient()
    code, result = run_module(certview_digicert_info, {"intermediate_ca": {"certhash": "ab cd"}}, client, monkeypatch, capsys)
    assert code == 1
    assert "intermediate_ca.certhash" in result["msg"]
    assert client.calls == []


def test_key_path_folder_rejected(monkeypatch, capsys, tmp_path):
    client = FakeClient()
    code, result = run_module(certview_order, order_args(csr=None, auto_generate_csr=True, private_key_path=str(tmp_path)), client, monkeypatch, capsys)
    assert code == 1
    assert "is a folder" in result["msg"]
    assert client.calls == []

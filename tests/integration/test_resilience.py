"""Error codes the modules rule out locally, faults, and token expiry, against the simulator.

The REST helper is driven directly for request bodies that the modules never
send, because they reject such input before any request.
"""

import pytest
import requests

from ansible_collections.qualys.certview.plugins.module_utils._errors import error_from_response
from ansible_collections.qualys.certview.plugins.module_utils.api import CertViewAPIError, CertViewClient

from integration_support import CA_NAME, REQUESTER
from test_modules import create_order, new_order_options, order_task, task_play

ORDERS = "/certview/rest/public/v1/certificates/enrollment/digicert/orders"


def valid_body():
    return {
        "approverUserNames": ["approver"],
        "intermediateCA": {"commonName": CA_NAME},
        "certificate": {"commonName": "raw.example.test", "csr": {"autoGenerateCSR": True}, "signatureHash": "SHA-256"},
        "validity": {"validityYears": 1},
        "digicertOrganizationId": 525858,
        "digicertProductNameId": "private_ssl_plus",
    }


def client_for(sim):
    return CertViewClient(sim.url, username=REQUESTER[0], password=REQUESTER[1], timeout=5, backoff_base=0.05, backoff_max=0.2)


def changed_body(change):
    body = valid_body()
    change(body)
    return body


@pytest.mark.parametrize(
    "body, code",
    [
        (changed_body(lambda body: body.pop("validity") and body["certificate"].pop("signatureHash")), "1903"),
        (changed_body(lambda body: body["validity"].update(validityDays=30)), "1904"),
        (changed_body(lambda body: body["certificate"]["csr"].update(encodedCSR="x")), "1907"),
        (changed_body(lambda body: body.update(intermediateCA={})), "1922"),
        (changed_body(lambda body: body["certificate"].update(signatureHash="MD5")), "1905"),
    ],
)
def test_helper_surfaces_validation_code(sim, body, code):
    with pytest.raises(CertViewAPIError) as raised:
        client_for(sim).create_order(body)
    assert raised.value.error_code == code
    assert raised.value.http_status == 400
    assert code in str(raised.value)


def test_helper_surfaces_malformed_json_140001(sim):
    # The client always sends valid JSON, so the broken body goes out through
    # requests and the real response is parsed by the client's error parser.
    token = requests.post(sim.url + "/auth", data={"username": REQUESTER[0], "password": REQUESTER[1], "token": "true"}, timeout=5).text.strip()
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json", "Accept": "application/json"}
    response = requests.post(sim.url + ORDERS, data="{not json", headers=headers, timeout=5)
    error = error_from_response(response, "POST", ORDERS)
    assert error.http_status == 400
    assert error.error_code == "140001"
    assert "140001" in str(error)


def test_missing_text_lists_all_fields(sim):
    body = valid_body()
    del body["validity"]
    del body["certificate"]["signatureHash"]
    with pytest.raises(CertViewAPIError) as raised:
        client_for(sim).create_order(body)
    assert "validity" in raised.value.error_text
    assert "signatureHash" in raised.value.error_text


def test_json_error_bodies_parse_too(sim):
    sim.configure(error_format="json")
    body = valid_body()
    body["certificate"]["signatureHash"] = "MD5"
    with pytest.raises(CertViewAPIError) as raised:
        client_for(sim).create_order(body)
    assert raised.value.error_code == "1905"
    assert "MD5" in raised.value.error_text


def test_dropped_create_is_not_resent(sim, run_playbook):
    sim.inject({"method": "POST", "path": ORDERS + "$", "kind": "drop_after", "times": 1})
    run = run_playbook(task_play(order_task("create", ignore_errors=True, **new_order_options())))
    result = run.result("create")
    assert result["failed"] is True
    assert "an order may now exist" in result["msg"]
    assert result["order_may_exist"] is True
    creates = [entry for entry in sim.requests_log() if entry["method"] == "POST" and entry["path"] == ORDERS]
    assert len(creates) == 1
    assert len(sim.orders()) == 1


def test_create_retries_after_429(sim, run_playbook):
    sim.inject({"method": "POST", "path": ORDERS + "$", "kind": "status", "status": 429, "retry_after": 1, "times": 1})
    created = create_order(run_playbook)
    assert created["changed"] is True
    assert len(sim.orders()) == 1


def test_reads_retry_5xx(sim, run_playbook):
    created = create_order(run_playbook)
    sim.inject(
        {"method": "GET", "path": ORDERS + "/", "kind": "status", "status": 503, "times": 1},
        {"method": "GET", "path": ORDERS + "/", "kind": "status", "status": 502, "times": 1},
    )
    run = run_playbook(task_play(order_task("read", uuid=created["uuid"])))
    assert run.rc == 0, run.output
    gets = [entry for entry in sim.requests_log() if entry["method"] == "GET"]
    assert [entry["status"] for entry in gets] == [503, 502, 200]


def test_expired_token_reauthenticates_once(sim):
    client = client_for(sim)
    client.authenticate()
    sim.admin("POST", "tokens/expire")
    products = client.list_products({"commonName": CA_NAME})
    assert products
    auths = [entry for entry in sim.requests_log() if entry["path"] == "/auth"]
    assert len(auths) == 2


def test_html_error_page_reported_with_status(sim, run_playbook):
    sim.inject({"method": "POST", "path": "/products$", "kind": "html", "status": 403, "times": 1})
    options = {"intermediate_ca": {"common_name": CA_NAME}, "gather": ["products"]}
    task = {"name": "info", "qualys.certview.certview_digicert_info": options, "ignore_errors": True}
    run = run_playbook(task_play(task))
    result = run.result("info")
    assert result["http_status"] == 403
    assert "Traceback" not in result["msg"]

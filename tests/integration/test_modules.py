"""The three modules, run by ansible-playbook against the simulator over HTTP."""

import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from integration_support import APPROVER, CA_NAME

ORDER_DEFAULTS = {
    "approver_user_names": ["approver"],
    "intermediate_ca": {"common_name": CA_NAME},
    "organization_id": 525858,
    "product_name_id": "private_ssl_plus",
    "signature_hash": "SHA-256",
    "validity_years": 1,
}


def make_csr(common_name):
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


def task_play(*tasks):
    """Return a playbook that runs these tasks on localhost, stopping at the first failure."""
    return [{"name": "Certificate View", "hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}]


def order_task(name, register="result", ignore_errors=False, **options):
    task = {"name": name, "qualys.certview.certview_order": options, "register": register}
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def new_order_options(common_name="www.example.test", **overrides):
    options = dict(ORDER_DEFAULTS, common_name=common_name, csr=make_csr(common_name or "www.example.test"))
    options.update(overrides)
    return options


def create_order(run_playbook, common_name="www.example.test", **overrides):
    run = run_playbook(task_play(order_task("create", **new_order_options(common_name, **overrides))))
    assert run.rc == 0, run.output
    return run.result("create")


def test_create_approve_and_wait_until_issued(sim, run_playbook):
    created = create_order(run_playbook)
    assert created["changed"] is True
    assert created["order"]["status"] == "SUBMITTED"
    uuid = created["uuid"]

    approve = {
        "name": "approve",
        "qualys.certview.certview_order_status": {
            "uuid": uuid, "state": "approved", "comment": "integration test",
            "username": APPROVER[0], "password": APPROVER[1],
        },
        "register": "approved",
    }
    wait = {
        "name": "wait",
        "qualys.certview.certview_order_status": {"uuid": uuid, "wait": True, "wait_timeout": 60, "poll_interval": 1},
        "register": "issued",
    }
    run = run_playbook(task_play(approve, wait))
    assert run.rc == 0, run.output
    assert run.result("approve")["changed"] is True
    assert run.result("wait")["status"] == "ISSUED"
    assert run.result("wait")["changed"] is False
    assert sim.orders()[0]["status"] == "ISSUED"

    again = run_playbook(task_play(approve, wait))
    assert again.rc == 0, again.output
    assert again.result("approve")["changed"] is False
    assert again.stats()["localhost"]["changed"] == 0


def test_rerun_with_uuid_is_unchanged(sim, run_playbook):
    options = new_order_options()
    created = create_order(run_playbook, csr=options["csr"])
    options["uuid"] = created["uuid"]
    run = run_playbook(task_play(order_task("rerun", **options)))
    assert run.rc == 0, run.output
    assert run.result("rerun")["changed"] is False
    assert [entry["method"] for entry in sim.writes()] == ["POST"]


def test_update_submitted_order(sim, run_playbook):
    created = create_order(run_playbook)
    update = order_task(
        "update", uuid=created["uuid"], approver_user_names=["manager", "approver"], organization_units=["Web"], signature_hash="sha384",
    )
    run = run_playbook(task_play(update), diff=True)
    assert run.rc == 0, run.output
    result = run.result("update")
    assert result["changed"] is True
    assert result["diff"]["before"]["signature_hash"] == "SHA-256"
    assert result["diff"]["after"]["signature_hash"] == "SHA-384"
    stored = sim.orders()[0]
    assert sorted(stored["approverUserNames"]) == ["approver", "manager"]
    assert stored["certificate"]["signatureHash"] == "SHA-384"

    # The same values in another list order and hash spelling match the order.
    same = order_task("same", uuid=created["uuid"], approver_user_names=["approver", "manager"], signature_hash="SHA-384")
    rerun = run_playbook(task_play(same))
    assert rerun.rc == 0, rerun.output
    assert rerun.result("same")["changed"] is False


def test_update_approved_order_fails_with_1920(sim, run_playbook):
    created = create_order(run_playbook)
    approve = {
        "name": "approve",
        "qualys.certview.certview_order_status": {
            "uuid": created["uuid"], "state": "approved", "comment": "ok", "username": APPROVER[0], "password": APPROVER[1],
        },
    }
    update = order_task("update", uuid=created["uuid"], ignore_errors=True, approver_user_names=["manager"])
    unchanged = order_task("unchanged", uuid=created["uuid"], approver_user_names=["approver"])
    run = run_playbook(task_play(approve, update, unchanged))
    assert run.rc == 0, run.output
    failed = run.result("update")
    assert failed["failed"] is True
    assert failed["error_code"] == "1920"
    assert failed["http_status"] == 409
    assert run.result("unchanged")["changed"] is False


def test_check_mode_sends_no_write(sim, run_playbook):
    created = create_order(run_playbook)
    before = len(sim.writes())
    tasks = task_play(
        order_task("create", **new_order_options("check.example.test")),
        order_task("update", uuid=created["uuid"], approver_user_names=["manager"]),
        {
            "name": "approve",
            "qualys.certview.certview_order_status": {
                "uuid": created["uuid"], "state": "approved", "comment": "check", "username": APPROVER[0], "password": APPROVER[1],
            },
        },
    )
    run = run_playbook(tasks, check=True)
    assert run.rc == 0, run.output
    assert run.result("create")["changed"] is True
    assert run.result("update")["changed"] is True
    assert run.result("approve")["changed"] is True
    assert run.result("approve")["status"] == "APPROVED"
    assert len(sim.writes()) == before
    assert sim.orders()[0]["status"] == "SUBMITTED"
    assert len(sim.orders()) == 1


def test_service_generated_key_written_0600(sim, run_playbook, tmp_path):
    key_path = tmp_path / "service.key"
    options = dict(ORDER_DEFAULTS, common_name="svc.example.test", auto_generate_csr=True, private_key_path=str(key_path))
    run = run_playbook(task_play(order_task("create", **options)), verbosity=3, json_output=False)
    assert run.rc == 0, run.output
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    key_text = key_path.read_text()
    key = serialization.load_pem_private_key(key_text.encode(), password=None)
    csr = x509.load_pem_x509_csr(sim.orders()[0]["certificate"]["encodedCSR"].encode())
    assert key.public_key().public_numbers() == csr.public_key().public_numbers()
    body_lines = [line for line in key_text.splitlines() if line and "-----" not in line]
    assert not any(line in run.output for line in body_lines)


def test_existing_key_file_stops_create(sim, run_playbook, tmp_path):
    key_path = tmp_path / "old.key"
    key_path.write_text("earlier key\n")
    options = dict(ORDER_DEFAULTS, common_name="svc.example.test", auto_generate_csr=True, private_key_path=str(key_path))
    run = run_playbook(task_play(order_task("create", ignore_errors=True, **options)))
    assert run.result("create")["failed"] is True
    assert "already exists" in run.result("create")["msg"]
    assert key_path.read_text() == "earlier key\n"
    assert sim.writes() == []


def test_digicert_info_lists_all_three(sim, run_playbook):
    task = {"name": "info", "qualys.certview.certview_digicert_info": {"intermediate_ca": {"common_name": CA_NAME}}}
    run = run_playbook(task_play(task))
    assert run.rc == 0, run.output
    result = run.result("info")
    assert result["changed"] is False
    assert 525858 in [item["id"] for item in result["organizations"]]
    assert "ssl_ev_securesite" in [item["name_id"] for item in result["products"]]
    assert "1541521" in [item["user_id"] for item in result["ev_approvers"]]


def test_digicert_info_gathers_only_products(sim, run_playbook):
    task = {"name": "info", "qualys.certview.certview_digicert_info": {"intermediate_ca": {"common_name": CA_NAME}, "gather": ["products"]}}
    run = run_playbook(task_play(task))
    assert run.rc == 0, run.output
    assert "products" in run.result("info")
    assert "organizations" not in run.result("info")
    assert [entry["path"].rsplit("/", 1)[-1] for entry in sim.requests_log() if entry["path"] != "/auth"] == ["products"]


def test_password_and_token_absent_from_vvv(sim, run_playbook):
    token_response = __import__("requests").post(sim.url + "/auth", data={"username": "requester", "password": "requester-pass", "token": "true"}, timeout=10)
    token = token_response.text.strip()
    tasks = task_play(
        {"name": "info", "qualys.certview.certview_digicert_info": {"intermediate_ca": {"common_name": CA_NAME}, "gather": ["organizations"]}},
        {"name": "with token", "qualys.certview.certview_digicert_info": {"intermediate_ca": {"common_name": CA_NAME}, "gather": ["products"], "token": token}},
        {
            "name": "bad password",
            "qualys.certview.certview_digicert_info": {"intermediate_ca": {"common_name": CA_NAME}, "username": "approver", "password": "wrong-secret-99"},
            "ignore_errors": True,
        },
    )
    run = run_playbook(tasks, verbosity=3, json_output=False)
    assert run.rc == 0, run.output
    assert "requester-pass" not in run.output
    assert token not in run.output
    assert "wrong-secret-99" not in run.output
    assert "rejected" in run.output.lower() or "401" in run.output


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"organization_id": 999999}, "1905"),
        ({"product_name_id": "no_such_product"}, "1905"),
        ({"approver_user_names": ["requester"]}, "1905"),
        ({"product_name_id": "ssl_wildcard"}, "1905"),
        ({"product_name_id": "ssl_ev_securesite"}, "1903"),
        ({"product_name_id": "ssl_ev_securesite", "ev_approver_user_ids": ["42"]}, "1905"),
        ({"intermediate_ca": {"common_name": "Example Private Issuing CA"}}, "140004"),
        ({"intermediate_ca": {"common_name": "DigiCert Unconfigured Intermediate CA"}}, "140005"),
        ({"renewal_of_certificate": "0" * 64, "previous_order_id": 1}, "140006"),
    ],
)
def test_create_surfaces_api_error_code(sim, run_playbook, overrides, code):
    options = new_order_options(**overrides)
    run = run_playbook(task_play(order_task("create", ignore_errors=True, **options)))
    result = run.result("create")
    assert result["failed"] is True
    assert result["error_code"] == code, result["msg"]
    assert code in result["msg"]
    assert result["method"] == "POST"


def test_unknown_uuid_surfaces_148200(sim, run_playbook):
    run = run_playbook(task_play(order_task("read", ignore_errors=True, uuid="00000000-0000-0000-0000-000000000000")))
    result = run.result("read")
    assert result["error_code"] == "148200"
    assert result["http_status"] == 404


def test_requester_cannot_approve_148100(sim, run_playbook):
    created = create_order(run_playbook)
    task = {
        "name": "approve",
        "qualys.certview.certview_order_status": {"uuid": created["uuid"], "state": "approved", "comment": "self"},
        "ignore_errors": True,
    }
    run = run_playbook(task_play(task))
    assert run.result("approve")["error_code"] == "148100"
    assert sim.orders()[0]["status"] == "SUBMITTED"


def test_user_without_api_license_2012(sim, run_playbook):
    run = run_playbook(
        task_play(order_task("create", ignore_errors=True, **new_order_options())), credentials=("nolicense", "nolicense-pass"),
    )
    assert run.result("create")["error_code"] == "2012"
    assert run.result("create")["http_status"] == 403


def test_license_limit_148101(sim, run_playbook):
    sim.configure(license_limit=1)
    create_order(run_playbook)
    run = run_playbook(task_play(order_task("second", ignore_errors=True, **new_order_options("two.example.test"))))
    assert run.result("second")["error_code"] == "148101"


def test_enrollment_cannot_become_renewal_140007(sim, run_playbook):
    created = create_order(run_playbook)
    update = order_task("renew", ignore_errors=True, uuid=created["uuid"], renewal_of_certificate="a" * 64, previous_order_id=7)
    run = run_playbook(task_play(update))
    assert run.result("renew")["error_code"] == "140007"


def test_moving_order_to_other_ca_140002(sim, run_playbook):
    created = create_order(run_playbook)
    update = order_task("move", ignore_errors=True, uuid=created["uuid"], intermediate_ca={"common_name": "DigiCert Unconfigured Intermediate CA"})
    run = run_playbook(task_play(update))
    assert run.result("move")["error_code"] == "140002"


@pytest.mark.parametrize(
    "overrides, option",
    [
        ({"signature_hash": "MD5"}, "signature_hash"),
        ({"validity_years": 1, "validity_days": 30}, "validity_days"),
        ({"auto_generate_csr": True}, "csr"),
        ({"intermediate_ca": {}}, "intermediate_ca"),
        ({"custom_expiration_date": "2001-01-01", "validity_years": None}, "custom_expiration_date"),
        ({"common_name": None}, "common_name"),
        ({"intermediate_ca": {"certhash": "xyz"}}, "certhash"),
    ],
)
def test_bad_input_fails_before_any_request(sim, run_playbook, overrides, option):
    options = new_order_options(**overrides)
    options = dict((key, value) for key, value in options.items() if value is not None)
    run = run_playbook(task_play(order_task("create", ignore_errors=True, **options)))
    result = run.result("create")
    assert result["failed"] is True
    assert option in result["msg"]
    assert sim.requests_log() == []


@pytest.mark.parametrize("progress_interval", [60, 1])
def test_wait_times_out_with_last_status(sim, run_playbook, progress_interval):
    created = create_order(run_playbook)
    options = {"uuid": created["uuid"], "wait": True, "wait_timeout": 3, "poll_interval": 1, "progress_interval": progress_interval}
    task = {"name": "wait", "qualys.certview.certview_order_status": options, "ignore_errors": True}
    run = run_playbook(task_play(task))
    result = run.result("wait")
    assert result["failed"] is True
    assert result["status"] == "SUBMITTED"
    assert "SUBMITTED" in result["msg"]
    assert result["msg"].count(created["uuid"]) == 1
    assert "within 3 s" in result["msg"]


def test_wait_fails_when_order_rejected(sim, run_playbook):
    created = create_order(run_playbook)
    reject = {
        "name": "reject",
        "qualys.certview.certview_order_status": {
            "uuid": created["uuid"], "state": "rejected", "comment": "wrong host", "username": APPROVER[0], "password": APPROVER[1],
        },
    }
    wait = {
        "name": "wait",
        "qualys.certview.certview_order_status": {"uuid": created["uuid"], "wait": True, "wait_timeout": 10, "poll_interval": 1},
        "ignore_errors": True,
    }
    cancel = {
        "name": "cancel",
        "qualys.certview.certview_order_status": {
            "uuid": created["uuid"], "state": "cancelled", "comment": "too late", "username": APPROVER[0], "password": APPROVER[1],
        },
        "ignore_errors": True,
    }
    run = run_playbook(task_play(reject, wait, cancel))
    assert run.result("reject")["changed"] is True
    waited = run.result("wait")
    assert waited["failed"] is True
    assert waited["status"] == "REJECTED"
    assert "REJECTED" in waited["msg"]
    assert run.result("cancel")["failed"] is True
    assert "REJECTED" in run.result("cancel")["msg"]


def test_cancel_approved_order_fails_clearly(sim, run_playbook):
    created = create_order(run_playbook)
    credentials = {"username": APPROVER[0], "password": APPROVER[1]}
    approve = {"name": "approve", "qualys.certview.certview_order_status": dict(credentials, uuid=created["uuid"], state="approved", comment="ok")}
    cancel = {
        "name": "cancel",
        "qualys.certview.certview_order_status": dict(credentials, uuid=created["uuid"], state="cancelled", comment="stop"),
        "ignore_errors": True,
    }
    run = run_playbook(task_play(approve, cancel))
    assert run.result("cancel")["failed"] is True
    assert "once approved" in run.result("cancel")["msg"]
    statuses = [entry["json"]["status"] for entry in sim.requests_log() if entry["path"].endswith("/status")]
    assert statuses == ["APPROVED"]


def test_wait_progress_only_at_verbose(sim, run_playbook):
    sim.configure(issue_delay=4.0, post_delay=0.2)
    created = create_order(run_playbook)
    credentials = {"username": APPROVER[0], "password": APPROVER[1]}
    approve_and_wait = {
        "name": "approve and wait",
        "qualys.certview.certview_order_status": dict(
            credentials, uuid=created["uuid"], state="approved", comment="ok", wait=True, wait_timeout=60, poll_interval=1, progress_interval=2,
        ),
    }
    verbose = run_playbook(task_play(approve_and_wait), verbosity=1, json_output=False)
    assert verbose.rc == 0, verbose.output
    progress = [line for line in verbose.output.splitlines() if "waited" in line and created["uuid"] in line]
    assert progress, verbose.output
    assert "of 60 s" in progress[0]
    assert "changed: [localhost]" in verbose.output
    statuses = [entry["json"]["status"] for entry in sim.requests_log() if entry["path"].endswith("/status")]
    assert statuses == ["APPROVED"]

    second = create_order(run_playbook, "quiet.example.test")
    approve_and_wait["qualys.certview.certview_order_status"]["uuid"] = second["uuid"]
    quiet = run_playbook(task_play(approve_and_wait), json_output=False)
    assert quiet.rc == 0, quiet.output
    assert not [line for line in quiet.output.splitlines() if "waited" in line]


def test_sliced_wait_keeps_status_diff(sim, run_playbook):
    sim.configure(issue_delay=3.0, post_delay=0.2)
    created = create_order(run_playbook)
    options = {
        "uuid": created["uuid"], "state": "approved", "comment": "ok", "wait": True, "wait_timeout": 60, "poll_interval": 1,
        "progress_interval": 1, "username": APPROVER[0], "password": APPROVER[1],
    }
    run = run_playbook(task_play({"name": "approve and wait", "qualys.certview.certview_order_status": options}), diff=True)
    assert run.rc == 0, run.output
    result = run.result("approve and wait")
    assert result["changed"] is True
    assert result["status"] == "ISSUED"
    assert result["diff"] == {"before": {"status": "SUBMITTED"}, "after": {"status": "APPROVED"}}
    assert "%.1f s" % result["waited"] in result["msg"]

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Unit tests of the Certificate View REST client (plugins/module_utils/api.py).

HTTP is mocked with the responses library, except in the tests named test_real_*, which talk to
raw socket servers on 127.0.0.1 so that the failure classification meets real requests and
urllib3 exceptions.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import time
import warnings
from urllib.parse import parse_qs, quote, quote_plus

import pytest
import requests
import responses
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError, ProtocolError, ReadTimeoutError

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.testing import patch_module_args

from ansible_collections.qualys.certview.plugins.module_utils import api
from ansible_collections.qualys.certview.plugins.module_utils import _errors
from ansible_collections.qualys.certview.plugins.module_utils import base

GATEWAY = "https://127.0.0.1:8443"
ORDERS_URL = GATEWAY + api.ORDERS_PATH
AUTH_URL = GATEWAY + api.AUTH_PATH
UUID = "cb95d100-ec30-11ea-920d-eb66140967e3"
ORDER_URL = ORDERS_URL + "/" + UUID
STATUS_URL = ORDER_URL + "/status"
ORGANIZATIONS_URL = GATEWAY + api.ENROLLMENT_PATH + "/organizations"
PASSWORD = "s3cret-Passw0rd"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.first-token.sig"
TOKEN_2 = "eyJhbGciOiJIUzI1NiJ9.second-token.sig"
CA = {"certhash": "a52d05988b61a33d6ac3edb449eb47150fa5b7a26c7dfc4e61f905ca36e165ee"}
ORDER = {"uuid": UUID, "status": "SUBMITTED", "caStatus": ""}

XML_1905 = (
    b"<?xml version='1.0' encoding='UTF-8'?><SIMPLE_RETURN><RESPONSE><DATETIME>2020-09-01T08:54:50Z</DATETIME>"
    b"<CODE>1905</CODE><TEXT>parameter signatureHash has invalid value MD5</TEXT></RESPONSE></SIMPLE_RETURN>"
)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def logs():
    return []


@pytest.fixture
def make_client(sleeps, logs):
    def make(**kwargs):
        options = dict(username="requester", password=PASSWORD, sleep=sleeps.append, log=logs.append)
        options.update(kwargs)
        url = options.pop("url", GATEWAY)
        return api.CertViewClient(url, **options)

    return make


def add_auth(mocked, token=TOKEN, status=201):
    mocked.add(responses.POST, AUTH_URL, body=token, status=status, content_type="text/plain")


def calls_to(mocked, method, url):
    return [call for call in mocked.calls if call.request.method == method and call.request.url == url]


def refused_error(url=ORDERS_URL):
    """ConnectionError as requests raises it for a refused connection."""
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, url, reason))


def connect_timeout_error(url=ORDERS_URL):
    reason = ConnectTimeoutError(None, "Connection to 127.0.0.1 timed out. (connect timeout=30)")
    return requests.exceptions.ConnectTimeout(MaxRetryError(None, url, reason))


def read_timeout_error(url=ORDERS_URL):
    return requests.exceptions.ReadTimeout(ReadTimeoutError(None, url, "Read timed out. (read timeout=30)"))


def dropped_error(url=ORDERS_URL):
    """ConnectionError as requests raises it when the server closes the connection after the request."""
    return requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", http.client.RemoteDisconnected("Remote end closed connection without response"))
    )


def assert_no_secret(text):
    assert PASSWORD not in text
    assert TOKEN not in text
    assert TOKEN_2 not in text


# Authentication


def test_authenticate_posts_form(mocked, make_client):
    add_auth(mocked, token="  %s \n" % TOKEN)
    client = make_client()
    assert client.authenticate() == TOKEN
    request = mocked.calls[0].request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in request.headers
    form = parse_qs(request.body)
    assert form == {"username": ["requester"], "password": [PASSWORD], "token": ["true"], "permissions": ["true"]}


def test_authenticate_rejected_credentials(mocked, make_client):
    mocked.add(responses.POST, AUTH_URL, status=401, body=b"")
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().authenticate()
    error = caught.value
    assert error.http_status == 401
    assert error.method == "POST"
    assert error.path == "/auth"
    assert "rejected the credentials of user 'requester'" in error.message
    assert_no_secret(error.message)


def test_authenticate_empty_token(mocked, make_client):
    add_auth(mocked, token="  \n")
    with pytest.raises(api.CertViewAPIError, match="contained no token"):
        make_client().authenticate()


def test_authenticate_html_instead_of_token(mocked, make_client):
    mocked.add(responses.POST, AUTH_URL, status=201, body="<html><body>Maintenance %s</body></html>" % TOKEN)
    with pytest.raises(api.CertViewError) as caught:
        make_client().authenticate()
    assert "is not a valid token" in caught.value.message
    assert_no_secret(caught.value.message)


def test_authenticate_without_password(make_client):
    client = make_client(username=None, password=None, token=None)
    with pytest.raises(api.CertViewError, match="set username and password"):
        client.authenticate()


def test_authenticate_retried_on_503(mocked, make_client, sleeps):
    mocked.add(responses.POST, AUTH_URL, status=503)
    add_auth(mocked)
    assert make_client().authenticate() == TOKEN
    assert sleeps == [1.0]


def test_request_sends_bearer_and_json(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.POST, ORGANIZATIONS_URL, json={"organizations": [{"id": 525858}]})
    assert make_client().list_organizations(CA) == [{"id": 525858}]
    request = calls_to(mocked, "POST", ORGANIZATIONS_URL)[0].request
    assert request.headers["Authorization"] == "Bearer " + TOKEN
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == b'{"certhash": "%s"}' % CA["certhash"].encode()


def test_given_token_skips_auth(mocked, make_client):
    mocked.add(responses.GET, ORDER_URL, json=ORDER)
    client = make_client(username=None, password=None, token=" %s\n" % TOKEN)
    assert client.get_order(UUID) == ORDER
    assert len(mocked.calls) == 1
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer " + TOKEN


def test_given_token_with_inner_space_rejected(make_client):
    with pytest.raises(api.CertViewError) as caught:
        make_client(token="abc def")
    assert "abc def" not in caught.value.message


def test_token_obtained_once_for_many_calls(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, json=ORDER)
    client = make_client()
    client.get_order(UUID)
    client.get_order(UUID)
    assert len(calls_to(mocked, "POST", AUTH_URL)) == 1


def test_reauth_once_on_401(mocked, make_client, logs):
    add_auth(mocked, token=TOKEN)
    add_auth(mocked, token=TOKEN_2)
    mocked.add(responses.GET, ORDER_URL, status=401)
    mocked.add(responses.GET, ORDER_URL, json=ORDER)
    assert make_client().get_order(UUID) == ORDER
    gets = calls_to(mocked, "GET", ORDER_URL)
    assert [call.request.headers["Authorization"] for call in gets] == ["Bearer " + TOKEN, "Bearer " + TOKEN_2]
    assert len(calls_to(mocked, "POST", AUTH_URL)) == 2
    assert any("Requesting a new token for user requester" in line for line in logs)


def test_second_401_fails(mocked, make_client):
    add_auth(mocked, token=TOKEN)
    add_auth(mocked, token=TOKEN_2)
    mocked.add(responses.GET, ORDER_URL, status=401)
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().get_order(UUID)
    assert caught.value.http_status == 401
    assert "rejected a newly issued token as well" in caught.value.message
    assert len(calls_to(mocked, "GET", ORDER_URL)) == 2
    assert len(calls_to(mocked, "POST", AUTH_URL)) == 2


def test_token_only_401_message(mocked, make_client):
    mocked.add(responses.GET, ORDER_URL, status=401, body=b"")
    client = make_client(username=None, password=None, token=TOKEN)
    with pytest.raises(api.CertViewAPIError) as caught:
        client.get_order(UUID)
    message = caught.value.message
    assert message.startswith("GET %s/%s failed: HTTP 401 Unauthorized" % (api.ORDERS_PATH, UUID))
    assert "The token was rejected or has expired" in message
    assert "valid for 4 hours" in message
    assert_no_secret(message)
    assert len(mocked.calls) == 1


def test_reauth_fails_when_credentials_rejected(mocked, make_client):
    add_auth(mocked, token=TOKEN)
    mocked.add(responses.POST, AUTH_URL, status=401)
    mocked.add(responses.GET, ORDER_URL, status=401)
    with pytest.raises(api.CertViewAPIError, match="rejected the credentials"):
        make_client().get_order(UUID)


# Retries


@pytest.mark.parametrize("status", [429, 502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_retryable_status_retried(mocked, make_client, sleeps, method, status):
    add_auth(mocked)
    mocked.add(method, ORDER_URL, status=status)
    mocked.add(method, ORDER_URL, json=ORDER)
    client = make_client()
    if method == "GET":
        assert client.get_order(UUID) == ORDER
    else:
        assert client.update_order(UUID, {"comment": "x"}) == ORDER
    assert len(calls_to(mocked, method, ORDER_URL)) == 2
    assert sleeps == [1.0]


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_list_post_retried(mocked, make_client, sleeps, status):
    add_auth(mocked)
    mocked.add(responses.POST, ORGANIZATIONS_URL, status=status)
    mocked.add(responses.POST, ORGANIZATIONS_URL, json={"organizations": []})
    assert make_client().list_organizations(CA) == []
    assert len(calls_to(mocked, "POST", ORGANIZATIONS_URL)) == 2


@pytest.mark.parametrize("status", [400, 403, 404, 409, 500])
def test_other_status_not_retried(mocked, make_client, sleeps, status):
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, status=status)
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().get_order(UUID)
    assert caught.value.http_status == status
    assert len(calls_to(mocked, "GET", ORDER_URL)) == 1
    assert sleeps == []


def test_retry_after_seconds(mocked, make_client, sleeps):
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, status=429, headers={"Retry-After": "7"})
    mocked.add(responses.GET, ORDER_URL, json=ORDER)
    make_client().get_order(UUID)
    assert sleeps == [7.0]


def test_retry_after_http_date(mocked, make_client, sleeps):
    add_auth(mocked)
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    mocked.add(responses.GET, ORDER_URL, status=503, headers={"Retry-After": when})
    mocked.add(responses.GET, ORDER_URL, json=ORDER)
    make_client(backoff_max=60.0).get_order(UUID)
    assert len(sleeps) == 1
    assert 17.0 <= sleeps[0] <= 20.0


def test_retry_after_capped(mocked, make_client, sleeps):
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, status=429, headers={"Retry-After": "3600"})
    mocked.add(responses.GET, ORDER_URL, json=ORDER)
    make_client(backoff_max=12.0).get_order(UUID)
    assert sleeps == [12.0]


def test_retry_after_invalid_uses_backoff(mocked, make_client, sleeps):
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, status=429, headers={"Retry-After": "soon"})
    mocked.add(responses.GET, ORDER_URL, json=ORDER)
    make_client(backoff_base=2.0).get_order(UUID)
    assert sleeps == [2.0]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0", 0.0),
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("-5", None),
        ("nan", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value, expected):
    now = email.utils.parsedate_to_datetime("Wed, 21 Oct 2015 07:28:00 GMT").timestamp()
    assert api.parse_retry_after(value, now=now) == expected


def test_backoff_capped(mocked, make_client, sleeps):
    add_auth(mocked)
    for _index in range(6):
        mocked.add(responses.GET, ORDER_URL, status=503)
    mocked.add(responses.GET, ORDER_URL, json=ORDER)
    make_client(max_retries=6, backoff_base=1.0, backoff_max=5.0).get_order(UUID)
    assert sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_status_retries_exhausted(mocked, make_client, sleeps):
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, status=503, body=b"")
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client(max_retries=3).get_order(UUID)
    assert caught.value.http_status == 503
    assert "Gave up after 3 retries" in caught.value.message
    assert len(calls_to(mocked, "GET", ORDER_URL)) == 4
    assert sleeps == [1.0, 2.0, 4.0]


@pytest.mark.parametrize("error_factory", [refused_error, connect_timeout_error, read_timeout_error, dropped_error])
def test_connection_error_retried_for_get(mocked, make_client, sleeps, error_factory):
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, body=error_factory(ORDER_URL))
    mocked.add(responses.GET, ORDER_URL, json=ORDER)
    assert make_client().get_order(UUID) == ORDER
    assert len(calls_to(mocked, "GET", ORDER_URL)) == 2
    assert sleeps == [1.0]


def test_connection_errors_exhausted(mocked, make_client, sleeps):
    add_auth(mocked)
    mocked.add(responses.PUT, ORDER_URL, body=dropped_error())
    with pytest.raises(api.CertViewTransportError) as caught:
        make_client(max_retries=2).update_order(UUID, {})
    assert "failed after 3 attempts" in caught.value.message
    assert "Remote end closed connection without response" in caught.value.message
    assert caught.value.method == "PUT"
    assert len(calls_to(mocked, "PUT", ORDER_URL)) == 3


def test_auth_connection_error_retried(mocked, make_client, sleeps):
    mocked.add(responses.POST, AUTH_URL, body=refused_error(AUTH_URL))
    add_auth(mocked)
    assert make_client().authenticate() == TOKEN
    assert sleeps == [1.0]


def test_retry_log_lines(mocked, make_client, logs):
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, status=429, headers={"Retry-After": "3"})
    mocked.add(responses.GET, ORDER_URL, body=dropped_error())
    mocked.add(responses.GET, ORDER_URL, json=ORDER)
    make_client().get_order(UUID)
    path = "%s/%s" % (api.ORDERS_PATH, UUID)
    assert logs == [
        "qualys.certview: GET %s: HTTP 429 Too Many Requests with Retry-After 3; retry 1 of 5 in 3.0 s" % path,
        "qualys.certview: GET %s: the connection to 127.0.0.1:8443 broke before a complete response arrived: "
        "Remote end closed connection without response; retry 2 of 5 in 2.0 s" % path,
    ]


def test_redirect_not_followed(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, status=302, headers={"Location": "https://login.example.invalid/"})
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().get_order(UUID)
    assert caught.value.http_status == 302
    assert "redirects to https://login.example.invalid/" in caught.value.message
    assert len(mocked.calls) == 2


# Create-order POST


def test_create_order_success(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.POST, ORDERS_URL, json=ORDER, status=201)
    assert make_client().create_order({"comment": "x"}) == ORDER


def test_create_retried_on_429(mocked, make_client, sleeps):
    add_auth(mocked)
    mocked.add(responses.POST, ORDERS_URL, status=429)
    mocked.add(responses.POST, ORDERS_URL, json=ORDER, status=201)
    assert make_client().create_order({}) == ORDER
    assert len(calls_to(mocked, "POST", ORDERS_URL)) == 2
    assert sleeps == [1.0]


@pytest.mark.parametrize("error_factory", [refused_error, connect_timeout_error])
def test_create_retried_when_not_sent(mocked, make_client, sleeps, error_factory):
    add_auth(mocked)
    mocked.add(responses.POST, ORDERS_URL, body=error_factory())
    mocked.add(responses.POST, ORDERS_URL, json=ORDER, status=201)
    assert make_client().create_order({}) == ORDER
    assert len(calls_to(mocked, "POST", ORDERS_URL)) == 2


def test_create_not_sent_exhausted(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.POST, ORDERS_URL, body=refused_error())
    with pytest.raises(api.CertViewTransportError) as caught:
        make_client(max_retries=2).create_order({})
    assert "never reached Certificate View, so no order was created" in caught.value.message
    assert not isinstance(caught.value, api.OrderMayExistError)
    assert len(calls_to(mocked, "POST", ORDERS_URL)) == 3


def assert_order_may_exist(error):
    assert isinstance(error, api.OrderMayExistError)
    assert "may have reached Certificate View" in error.message
    assert "order may now exist" in error.message or "order probably exists" in error.message
    assert "Do not rerun the task blindly" in error.message
    assert "Certificates > Enrollment orders" in error.message
    assert "common name" in error.message
    assert "no call that lists orders" in error.message
    assert error.to_result()["order_may_exist"] is True
    assert error.method == "POST"
    assert error.path == api.ORDERS_PATH


@pytest.mark.parametrize("error_factory", [read_timeout_error, dropped_error])
def test_create_may_exist_after_transport_error(mocked, make_client, sleeps, error_factory):
    add_auth(mocked)
    mocked.add(responses.POST, ORDERS_URL, body=error_factory())
    mocked.add(responses.POST, ORDERS_URL, json=ORDER, status=201)
    with pytest.raises(api.OrderMayExistError) as caught:
        make_client().create_order({})
    assert_order_may_exist(caught.value)
    assert "not sent again" in caught.value.message
    assert len(calls_to(mocked, "POST", ORDERS_URL)) == 1
    assert sleeps == []


def test_create_may_exist_after_body_read_timeout(mocked, make_client):
    # requests raises ConnectionError, not ReadTimeout, when the timeout hits while the body is read.
    add_auth(mocked)
    mocked.add(responses.POST, ORDERS_URL, body=requests.exceptions.ConnectionError(ReadTimeoutError(None, ORDERS_URL, "Read timed out.")))
    with pytest.raises(api.OrderMayExistError) as caught:
        make_client().create_order({})
    assert "read timeout" in caught.value.message
    assert len(calls_to(mocked, "POST", ORDERS_URL)) == 1


def test_create_may_exist_after_broken_body(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.POST, ORDERS_URL, body=requests.exceptions.ChunkedEncodingError(ProtocolError("Connection broken: IncompleteRead")))
    with pytest.raises(api.OrderMayExistError):
        make_client().create_order({})
    assert len(calls_to(mocked, "POST", ORDERS_URL)) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_create_may_exist_after_status(mocked, make_client, sleeps, status):
    add_auth(mocked)
    mocked.add(responses.POST, ORDERS_URL, status=status, body=b"<html><body><h1>Gateway problem</h1></body></html>", content_type="text/html")
    mocked.add(responses.POST, ORDERS_URL, json=ORDER, status=201)
    with pytest.raises(api.OrderMayExistError) as caught:
        make_client().create_order({})
    assert_order_may_exist(caught.value)
    assert caught.value.http_status == status
    assert "Gateway problem" in caught.value.message
    assert len(calls_to(mocked, "POST", ORDERS_URL)) == 1
    assert sleeps == []


def test_create_validation_error_is_api_error(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.POST, ORDERS_URL, status=400, body=XML_1905, content_type="application/xml")
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().create_order({})
    assert not isinstance(caught.value, api.OrderMayExistError)
    assert caught.value.error_code == "1905"
    assert len(calls_to(mocked, "POST", ORDERS_URL)) == 1


def test_create_repeated_after_401(mocked, make_client):
    add_auth(mocked, token=TOKEN)
    add_auth(mocked, token=TOKEN_2)
    mocked.add(responses.POST, ORDERS_URL, status=401)
    mocked.add(responses.POST, ORDERS_URL, json=ORDER, status=201)
    assert make_client().create_order({}) == ORDER
    assert len(calls_to(mocked, "POST", ORDERS_URL)) == 2


def test_create_malformed_json_may_exist(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.POST, ORDERS_URL, status=201, body=b'{"uuid": "cb95', content_type="application/json")
    with pytest.raises(api.OrderMayExistError) as caught:
        make_client().create_order({})
    assert "not valid JSON" in caught.value.message
    assert caught.value.http_status == 201
    assert len(calls_to(mocked, "POST", ORDERS_URL)) == 1


def test_create_response_without_uuid(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.POST, ORDERS_URL, status=201, json={"status": "SUBMITTED"})
    with pytest.raises(api.OrderMayExistError, match="no order uuid"):
        make_client().create_order({})


# Error responses


ERROR_BODIES = [
    pytest.param(XML_1905, "application/xml", "1905", "parameter signatureHash has invalid value MD5", id="xml-simple-return"),
    pytest.param(
        b'<ns:error xmlns:ns="urn:x"><ns:code>148200</ns:code><ns:message>Invalid certificate order</ns:message></ns:error>',
        "text/xml",
        "148200",
        "Invalid certificate order",
        id="xml-lenient-namespaced",
    ),
    pytest.param(
        b"<ServiceResponse><responseCode>x</responseCode><errors><errorCode>2012</errorCode>"
        b"<errorMessage>User license is not authorized to run this API.</errorMessage></errors></ServiceResponse>",
        "application/xml",
        "2012",
        "User license is not authorized to run this API.",
        id="xml-lenient-errorcode",
    ),
    pytest.param(
        b'{"errorCode": "1905", "message": "parameter x has invalid value y"}',
        "application/json",
        "1905",
        "parameter x has invalid value y",
        id="json-errorcode",
    ),
    pytest.param(
        b'{"code": 148100, "message": "User does not have required permissions"}',
        "application/json",
        "148100",
        "User does not have required permissions",
        id="json-code",
    ),
    pytest.param(
        b'{"error": {"code": "1920", "message": "API resource is not editable"}}',
        "application/json",
        "1920",
        "API resource is not editable",
        id="json-nested-error",
    ),
    pytest.param(b'{"errorMessage": "Malformed json"}', "application/json", None, "Malformed json", id="json-errormessage"),
    pytest.param(
        b'{"timestamp": "2020-09-01T08:54:50.473+0000", "status": 400, "error": "Bad Request", "path": "/x"}',
        "application/json",
        None,
        "Bad Request",
        id="json-spring-error-string",
    ),
    pytest.param(
        b'{"errors": [{"code": "1903", "message": "Missing required parameter(s): comment"}]}',
        None,
        "1903",
        "Missing required parameter(s): comment",
        id="json-errors-list",
    ),
]


@pytest.mark.parametrize("body, content_type, code, text", ERROR_BODIES)
def test_parse_error_body(body, content_type, code, text):
    assert _errors.parse_error_body(body, content_type) == (code, text, None)


def test_error_message_format(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.POST, ORDERS_URL, status=400, body=XML_1905, content_type="application/xml")
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().create_order({})
    error = caught.value
    assert error.message == (
        "POST /certview/rest/public/v1/certificates/enrollment/digicert/orders failed: "
        "HTTP 400 Bad Request, error 1905: parameter signatureHash has invalid value MD5"
    )
    assert str(error) == error.message
    assert error.to_result() == dict(
        msg=error.message,
        http_status=400,
        error_code="1905",
        error_text="parameter signatureHash has invalid value MD5",
        method="POST",
        path=api.ORDERS_PATH,
    )


def test_error_json_response(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, status=404, json={"errorCode": "148200", "message": "Invalid certificate order"})
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().get_order(UUID)
    assert caught.value.message.endswith("failed: HTTP 404 Not Found, error 148200: Invalid certificate order")


def test_error_html_page(mocked, make_client):
    page = (
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body {color: red}</style>"
        "<script>var secret = 1;</script></head><body><h1>Bad&nbsp;Gateway</h1><p>%s</p></body></html>" % ("filler text " * 40)
    )
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, status=400, body=page, content_type="text/html")
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().get_order(UUID)
    error = caught.value
    assert error.error_code is None
    assert error.error_text.startswith("502 Bad Gateway Bad Gateway filler text")
    assert len(error.error_text) <= 200
    assert error.error_text.endswith("...")
    assert "<" not in error.error_text
    assert "color" not in error.error_text
    assert "secret" not in error.error_text
    assert error.message.startswith("GET %s/%s failed: HTTP 400 Bad Request: 502 Bad Gateway" % (api.ORDERS_PATH, UUID))


def test_error_xhtml_code_element_ignored():
    page = b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Error <code>E42</code> happened</p></body></html>'
    assert _errors.parse_error_body(page, "application/xhtml+xml") == (None, None, "Error E42 happened")


def test_error_xml_with_entities_not_parsed():
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><SIMPLE_RETURN><RESPONSE><CODE>&a;</CODE></RESPONSE></SIMPLE_RETURN>'
    code, text, excerpt = _errors.parse_error_body(body, "application/xml")
    assert code is None
    assert text is None
    assert excerpt


def test_error_plain_text():
    assert _errors.parse_error_body(b"upstream connect error", "text/plain") == (None, None, "upstream connect error")


def test_error_invalid_json_body():
    assert _errors.parse_error_body(b'{"errorCode": ', "application/json") == (None, None, '{"errorCode":')


@pytest.mark.parametrize(
    "status, server_phrase, expected",
    [(400, "BAD REQUEST", "Bad Request"), (503, None, "Service Unavailable"), (599, "Custom", "Custom")],
)
def test_reason_phrase_standard(status, server_phrase, expected):
    assert _errors.reason_phrase(status, server_phrase) == expected


def test_hint_after_sentence_single_period(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, status=503, body=b"<html><body>The service is down.</body></html>", content_type="text/html")
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client(max_retries=1).get_order(UUID)
    assert caught.value.message.endswith("HTTP 503 Service Unavailable: The service is down. Gave up after 1 retry.")


def test_error_empty_body(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, status=403, body=b"")
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().get_order(UUID)
    error = caught.value
    assert error.message == "GET %s/%s failed: HTTP 403 Forbidden with an empty body" % (api.ORDERS_PATH, UUID)
    assert error.error_code is None
    assert error.error_text is None


def test_malformed_json_success(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.GET, ORDER_URL, status=200, body=b"<<garbage>>", content_type="application/json")
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().get_order(UUID)
    error = caught.value
    assert not isinstance(error, api.OrderMayExistError)
    assert error.http_status == 200
    assert "HTTP 200 OK, but the response was not valid JSON" in error.message


def test_secret_echoed_by_server_masked(mocked, make_client, logs):
    mocked.add(responses.POST, AUTH_URL, status=503, body="busy for %s" % PASSWORD)
    mocked.add(responses.POST, AUTH_URL, status=400, json={"errorCode": "1905", "message": "bad password %s" % PASSWORD})
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().authenticate()
    assert_no_secret(caught.value.message)
    assert_no_secret(caught.value.error_text)
    assert "bad password ********" in caught.value.message
    for line in logs:
        assert_no_secret(line)


def test_no_secret_in_any_failure(mocked, make_client, logs):
    add_auth(mocked, token=TOKEN)
    add_auth(mocked, token=TOKEN_2)
    mocked.add(responses.GET, ORDER_URL, status=429, headers={"Retry-After": "1"})
    mocked.add(responses.GET, ORDER_URL, body=dropped_error())
    mocked.add(responses.GET, ORDER_URL, status=401)
    mocked.add(responses.GET, ORDER_URL, status=401, json={"message": "token %s expired" % TOKEN_2})
    mocked.add(responses.POST, ORDERS_URL, body=read_timeout_error())
    client = make_client()
    messages = []
    for call in (lambda: client.get_order(UUID), lambda: client.create_order({})):
        with pytest.raises(api.CertViewError) as caught:
            call()
        messages.append(caught.value.message)
        messages.append(str(caught.value.to_result()))
    assert logs
    for text in messages + logs:
        assert_no_secret(text)


def substrings(text, length):
    return {text[start : start + length] for start in range(len(text) - length + 1)}


def test_token_cut_by_excerpt_masked(mocked, make_client, logs):
    # The normalized text puts the token across the 197-character cut of the 200-character excerpt.
    prefix = "Request rejected. " + "x" * 155 + " Authorization: Bearer "
    page = "<html><body><p>%s%s</p><p>more text after the token</p></body></html>" % (prefix, TOKEN_2)
    assert len(prefix) < _errors.EXCERPT_MAX_CHARS - 3 < len(prefix) + len(TOKEN_2)
    add_auth(mocked, token=TOKEN)
    add_auth(mocked, token=TOKEN_2)
    mocked.add(responses.GET, ORDER_URL, status=401)
    mocked.add(responses.GET, ORDER_URL, status=400, body=page, content_type="text/html")
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().get_order(UUID)
    error = caught.value
    assert "Authorization: Bearer *" in error.error_text
    assert logs
    texts = [error.message, error.error_text, str(error.to_result())] + logs
    for piece in substrings(TOKEN_2, 12):
        for text in texts:
            assert piece not in text


def test_decoded_excerpt_cut_token_masked(mocked, make_client):
    prefix = "y" * 165 + " token="
    assert len(prefix) + 12 < _errors.EXCERPT_MAX_CHARS - 3 < len(prefix) + len(TOKEN)
    add_auth(mocked, token=TOKEN)
    mocked.add(responses.GET, ORDER_URL, status=200, body=prefix + TOKEN + " end", content_type="application/json")
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().get_order(UUID)
    for piece in substrings(TOKEN, 12):
        assert piece not in caught.value.message
        assert piece not in caught.value.error_text


def test_url_encoded_password_masked(mocked, make_client):
    password = "p@ss w/rd&x=1"
    echoed = "username=requester&password=%s or %s" % (quote(password, safe=""), quote_plus(password))
    mocked.add(responses.POST, AUTH_URL, status=400, body="bad form: " + echoed, content_type="text/plain")
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client(password=password).authenticate()
    error = caught.value
    for text in (error.message, error.error_text):
        assert quote(password, safe="") not in text
        assert quote_plus(password) not in text
        assert "password=******** or ********" in text


# Other API calls


def test_set_order_status(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.PUT, STATUS_URL, status=204)
    assert make_client().set_order_status(UUID, "approved", "looks good") is None
    request = calls_to(mocked, "PUT", STATUS_URL)[0].request
    assert request.body == b'{"status": "APPROVED", "comment": "looks good"}'


def test_set_order_status_409_already_done(mocked, make_client, logs):
    add_auth(mocked)
    mocked.add(responses.PUT, STATUS_URL, body=read_timeout_error(STATUS_URL))
    mocked.add(responses.PUT, STATUS_URL, status=409, json={"errorCode": "1920", "message": "API resource is not editable"})
    mocked.add(responses.GET, ORDER_URL, json=dict(ORDER, status="APPROVED"))
    make_client().set_order_status(UUID, "APPROVED", "ok")
    assert "already has status APPROVED" in logs[-1]


def test_set_order_status_409_other_status(mocked, make_client):
    add_auth(mocked)
    mocked.add(responses.PUT, STATUS_URL, status=409, json={"errorCode": "1920", "message": "API resource is not editable"})
    mocked.add(responses.GET, ORDER_URL, json=dict(ORDER, status="POSTED"))
    with pytest.raises(api.CertViewAPIError) as caught:
        make_client().set_order_status(UUID, "CANCELLED", "stop")
    assert caught.value.error_code == "1920"


def test_set_order_status_invalid(make_client):
    with pytest.raises(ValueError):
        make_client().set_order_status(UUID, "ISSUED", "x")
    with pytest.raises(ValueError):
        make_client().set_order_status(UUID, "APPROVED", "")


def test_order_uuid_quoted(mocked, make_client):
    mocked.add(responses.GET, ORDERS_URL + "/a%2Fb", json=ORDER)
    assert make_client(token=TOKEN).get_order("a/b") == ORDER


@pytest.mark.parametrize(
    "method_name, path, key",
    [("list_organizations", "organizations", "organizations"), ("list_products", "products", "products"), ("list_ev_approvers", "evApprovers", "evApprovers")],
)
def test_list_calls(mocked, make_client, method_name, path, key):
    url = GATEWAY + api.ENROLLMENT_PATH + "/" + path
    mocked.add(responses.POST, url, json={key: [{"id": 1}]})
    client = make_client(token=TOKEN)
    assert getattr(client, method_name)(dict(CA, commonName=None)) == [{"id": 1}]
    assert mocked.calls[0].request.body == b'{"certhash": "%s"}' % CA["certhash"].encode()


def test_list_response_without_key(mocked, make_client):
    mocked.add(responses.POST, ORGANIZATIONS_URL, json={"unexpected": []})
    with pytest.raises(api.CertViewAPIError, match="no 'organizations' list"):
        make_client(token=TOKEN).list_organizations(CA)


def test_list_certificates_pages(mocked, make_client):
    url = GATEWAY + api.CERTIFICATES_PATH
    mocked.add(responses.POST, url, json=[{"id": 1}, {"id": 2}])
    mocked.add(responses.POST, url, json=[{"id": 3}])
    mocked.add(responses.POST, url, json=[])
    filters = [{"field": "certificate.type", "value": "Leaf", "operator": "EQUALS"}]
    assert make_client(token=TOKEN).list_certificates(filters, page_size=2) == [{"id": 1}, {"id": 2}, {"id": 3}]
    bodies = [call.request.body for call in mocked.calls]
    assert b'"pageNumber": 0' in bodies[0]
    assert b'"pageNumber": 2' in bodies[2]
    assert b'"operation": "AND"' in bodies[0]


def test_list_certificates_repeated_page(mocked, make_client):
    mocked.add(responses.POST, GATEWAY + api.CERTIFICATES_PATH, json=[{"id": 1}])
    with pytest.raises(api.CertViewAPIError, match="repeats page 0"):
        make_client(token=TOKEN).list_certificates()


# Waiting


def sequence_of(client, statuses):
    orders = [dict(ORDER, status=status, caStatus=ca_status) for status, ca_status in statuses]

    def get_order(uuid):
        return orders.pop(0) if len(orders) > 1 else orders[0]

    client.get_order = get_order


def test_wait_for_order_issued(make_client, fake_clock):
    client = make_client(token=TOKEN, sleep=fake_clock.sleep)
    sequence_of(client, [("SUBMITTED", ""), ("APPROVED", ""), ("POSTED", "pending"), ("ISSUED", "issued")])
    seen = []
    order = client.wait_for_order(UUID, interval=5, max_interval=60, clock=fake_clock, progress=lambda order, elapsed: seen.append((order["status"], elapsed)))
    assert order["status"] == "ISSUED"
    assert fake_clock.sleeps == [5, 7.5, 11.25]
    assert seen == [("SUBMITTED", 0.0), ("APPROVED", 5.0), ("POSTED", 12.5), ("ISSUED", 23.75)]


def test_wait_for_order_past_target(make_client, fake_clock):
    client = make_client(token=TOKEN, sleep=fake_clock.sleep)
    sequence_of(client, [("ISSUED", "issued")])
    assert client.wait_for_order(UUID, targets=("POSTED",), clock=fake_clock)["status"] == "ISSUED"
    assert fake_clock.sleeps == []


def test_wait_for_order_failure_status(make_client, fake_clock):
    client = make_client(token=TOKEN, sleep=fake_clock.sleep)
    sequence_of(client, [("SUBMITTED", ""), ("REJECTED", "rejected by approver")])
    with pytest.raises(api.CertViewWaitError) as caught:
        client.wait_for_order(UUID, clock=fake_clock)
    error = caught.value
    assert error.status == "REJECTED"
    assert error.ca_status == "rejected by approver"
    assert "reached status REJECTED" in error.message
    assert isinstance(error, api.CertViewError)


def test_wait_for_order_timeout(make_client, fake_clock):
    client = make_client(token=TOKEN, sleep=fake_clock.sleep)
    sequence_of(client, [("POSTED", "pending")])
    with pytest.raises(api.CertViewWaitError) as caught:
        client.wait_for_order(UUID, timeout=60, interval=10, max_interval=20, clock=fake_clock)
    error = caught.value
    assert fake_clock.sleeps == [10, 15, 20, 15]
    assert fake_clock.now == 60
    assert error.status == "POSTED"
    assert error.ca_status == "pending"
    assert error.waited == 60
    assert "did not reach ISSUED within 60 s: last status POSTED, caStatus 'pending', after 5 polls" in error.message
    result = error.to_result()
    assert result["status"] == "POSTED"
    assert result["ca_status"] == "pending"
    assert result["uuid"] == UUID


def test_wait_for_order_interval_capped(make_client, fake_clock):
    client = make_client(token=TOKEN, sleep=fake_clock.sleep)
    sequence_of(client, [("SUBMITTED", "")] * 6 + [("ISSUED", "issued")])
    client.wait_for_order(UUID, timeout=10000, interval=4, max_interval=8, clock=fake_clock)
    assert fake_clock.sleeps == [4, 6, 8, 8, 8, 8]


# resolve_connection and client_from_module


def test_resolve_task_gateway_wins(monkeypatch, fake_module):
    monkeypatch.setenv("QUALYS_GATEWAY_URL", "https://env.example.test")
    monkeypatch.setenv("QUALYS_PLATFORM", "US2")
    module = fake_module(gateway_url="https://gateway.private.example.test/", username="u", password="p")
    connection = api.resolve_connection(module)
    assert connection["gateway_url"] == "https://gateway.private.example.test"


def test_resolve_task_platform_wins(monkeypatch, fake_module):
    monkeypatch.setenv("QUALYS_GATEWAY_URL", "https://env.example.test")
    module = fake_module(platform="EU2", username="u", password="p")
    assert api.resolve_connection(module)["gateway_url"] == "https://gateway.qg2.apps.qualys.eu"


def test_resolve_env_gateway_beats_env_platform(monkeypatch, fake_module):
    monkeypatch.setenv("QUALYS_GATEWAY_URL", "http://127.0.0.1:5000//")
    monkeypatch.setenv("QUALYS_PLATFORM", "US2")
    module = fake_module(username="u", password="p")
    assert api.resolve_connection(module)["gateway_url"] == "http://127.0.0.1:5000"
    assert module.warnings == []


def test_resolve_env_platform_any_case(monkeypatch, fake_module):
    monkeypatch.setenv("QUALYS_PLATFORM", "ksa1")
    assert api.resolve_connection(fake_module(token="t"))["gateway_url"] == "https://gateway.qg1.apps.qualysksa.com"


def test_resolve_env_platform_invalid(monkeypatch, fake_module):
    monkeypatch.setenv("QUALYS_PLATFORM", "US9")
    with pytest.raises(fake_module.FailJson) as caught:
        api.resolve_connection(fake_module(token="t"))
    message = caught.value.result["msg"]
    assert "Invalid QUALYS_PLATFORM 'US9'" in message
    assert "AE1, AU1, CA1, EU1, EU2, EU3, IN1, KSA1, UK1, US1, US2, US3, US4" in message


def test_resolve_missing_gateway(fake_module):
    with pytest.raises(fake_module.FailJson) as caught:
        api.resolve_connection(fake_module(token="t"))
    assert caught.value.result["msg"] == (
        "Missing connection option: set gateway_url or platform, or the environment variable QUALYS_GATEWAY_URL or QUALYS_PLATFORM."
    )


@pytest.mark.parametrize(
    "url, expected",
    [
        ("ftp://gateway.example.test", "it must be an http:// or https:// URL with a host name"),
        ("gateway.qg1.apps.qualys.com", "it must be an http:// or https:// URL with a host name"),
        ("https://gateway.example.test/?a=1", "must not contain a query string"),
        ("https://gateway.example.test:99999", "Invalid gateway_url"),
        ("https://admin:hunter2@gateway.example.test", "contains user information"),
    ],
)
def test_resolve_invalid_gateway_url(url, expected, fake_module):
    with pytest.raises(fake_module.FailJson) as caught:
        api.resolve_connection(fake_module(gateway_url=url, token="t"))
    assert expected in caught.value.result["msg"]
    assert "hunter2" not in caught.value.result["msg"]


def test_resolve_plain_http_warns(fake_module):
    module = fake_module(gateway_url="http://gateway.example.test", token="t")
    api.resolve_connection(module)
    assert "unencrypted" in module.warnings[0]


def test_resolve_task_credentials_ignore_env(monkeypatch, fake_module):
    monkeypatch.setenv("QUALYS_USERNAME", "env-user")
    monkeypatch.setenv("QUALYS_PASSWORD", "env-password")
    monkeypatch.setenv("QUALYS_TOKEN", "env-token")
    connection = api.resolve_connection(fake_module(platform="US1", username="task-user", password="task-password"))
    assert (connection["username"], connection["password"], connection["token"]) == ("task-user", "task-password", None)
    connection = api.resolve_connection(fake_module(platform="US1", token="task-token"))
    assert (connection["username"], connection["password"], connection["token"]) == (None, None, "task-token")


def test_resolve_task_password_beats_token(monkeypatch, fake_module):
    monkeypatch.setenv("QUALYS_TOKEN", "env-token")
    module = fake_module(platform="US1", token=TOKEN, username="approver", password="approver-pass")
    connection = api.resolve_connection(module)
    assert connection["username"] == "approver"
    assert connection["password"] == "approver-pass"
    assert connection["token"] is None


@pytest.mark.parametrize("params", [dict(token=TOKEN, password="p"), dict(token=TOKEN, username="u")])
def test_resolve_token_with_half_credentials(fake_module, params):
    with pytest.raises(fake_module.FailJson) as caught:
        api.resolve_connection(fake_module(platform="US1", **params))
    assert caught.value.result["msg"].startswith("Missing option")


def test_resolve_env_credentials(monkeypatch, fake_module):
    monkeypatch.setenv("QUALYS_USERNAME", "env-user")
    monkeypatch.setenv("QUALYS_PASSWORD", " env password ")
    module = fake_module(platform="US1")
    connection = api.resolve_connection(module)
    assert (connection["username"], connection["password"], connection["token"]) == ("env-user", " env password ", None)
    assert " env password " in module.no_log_values


def test_resolve_env_token_and_password(monkeypatch, fake_module):
    monkeypatch.setenv("QUALYS_USERNAME", "env-user")
    monkeypatch.setenv("QUALYS_PASSWORD", "env-password")
    monkeypatch.setenv("QUALYS_TOKEN", " env-token\n")
    module = fake_module(platform="US1")
    connection = api.resolve_connection(module)
    assert (connection["username"], connection["password"], connection["token"]) == ("env-user", "env-password", "env-token")
    assert {"env-password", "env-token", " env-token\n"} <= module.no_log_values


def test_resolve_env_username_without_password(monkeypatch, fake_module):
    monkeypatch.setenv("QUALYS_USERNAME", "env-user")
    with pytest.raises(fake_module.FailJson) as caught:
        api.resolve_connection(fake_module(platform="US1"))
    assert "QUALYS_USERNAME is set but QUALYS_PASSWORD is not" in caught.value.result["msg"]


def test_resolve_task_username_without_password(fake_module):
    with pytest.raises(fake_module.FailJson) as caught:
        api.resolve_connection(fake_module(platform="US1", username="u"))
    assert caught.value.result["msg"].startswith("Missing option password")


def test_resolve_missing_credentials(fake_module):
    with pytest.raises(fake_module.FailJson) as caught:
        api.resolve_connection(fake_module(platform="US1"))
    message = caught.value.result["msg"]
    assert message.startswith("Missing credentials")
    for name in ("QUALYS_USERNAME", "QUALYS_PASSWORD", "QUALYS_TOKEN", "username", "token"):
        assert name in message


def test_resolve_tls_and_timeout(tmp_path, fake_module):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    connection = api.resolve_connection(fake_module(platform="US1", token="t", ca_path=str(bundle), timeout=5, validate_certs=False))
    assert connection["ca_path"] == str(bundle)
    assert connection["timeout"] == 5
    assert connection["validate_certs"] is False


def test_resolve_missing_ca_path(tmp_path, fake_module):
    with pytest.raises(fake_module.FailJson, match="Invalid ca_path"):
        api.resolve_connection(fake_module(platform="US1", token="t", ca_path=str(tmp_path / "missing.pem")))


def test_resolve_invalid_timeout(fake_module):
    with pytest.raises(fake_module.FailJson, match="Invalid timeout 0"):
        api.resolve_connection(fake_module(platform="US1", token="t", timeout=0))


@pytest.mark.parametrize("timeout", [-1, 3601, 10000000000000])
def test_resolve_timeout_out_of_range(fake_module, timeout):
    with pytest.raises(fake_module.FailJson) as caught:
        api.resolve_connection(fake_module(platform="US1", token="t", timeout=timeout))
    assert caught.value.result["msg"] == "Invalid timeout %d: set a number of seconds from 1 to 3600." % timeout


@pytest.mark.parametrize("timeout", [1, 3600])
def test_resolve_timeout_limits_accepted(fake_module, timeout):
    assert api.resolve_connection(fake_module(platform="US1", token="t", timeout=timeout))["timeout"] == timeout


def validate_connection_options(parameters):
    """Run the connection argument spec over task parameters as AnsibleModule does, with its environment fallbacks."""
    validator = ArgumentSpecValidator(
        api.connection_argument_spec(),
        mutually_exclusive=api.CONNECTION_MUTUALLY_EXCLUSIVE,
        required_together=api.CONNECTION_REQUIRED_TOGETHER,
    )
    result = validator.validate(dict(parameters))
    assert result.error_messages == []
    return result.validated_parameters


@pytest.mark.parametrize(
    "variable, value, expected",
    [
        ("QUALYS_TIMEOUT", "abc", "Invalid QUALYS_TIMEOUT 'abc': set a whole number of seconds from 1 to 3600."),
        ("QUALYS_TIMEOUT", "7.5", "Invalid QUALYS_TIMEOUT '7.5': set a whole number of seconds from 1 to 3600."),
        ("QUALYS_TIMEOUT", "", "Invalid QUALYS_TIMEOUT '': set a whole number of seconds from 1 to 3600."),
        ("QUALYS_TIMEOUT", "0", "Invalid QUALYS_TIMEOUT '0': set a whole number of seconds from 1 to 3600."),
        ("QUALYS_TIMEOUT", "10000000000000", "Invalid QUALYS_TIMEOUT '10000000000000': set a whole number of seconds from 1 to 3600."),
        ("QUALYS_VALIDATE_CERTS", "maybe", "Invalid QUALYS_VALIDATE_CERTS 'maybe': set true or false."),
        ("QUALYS_VALIDATE_CERTS", "", "Invalid QUALYS_VALIDATE_CERTS '': set true or false."),
    ],
)
def test_resolve_invalid_env_option(monkeypatch, fake_module, variable, value, expected):
    monkeypatch.setenv(variable, value)
    parameters = validate_connection_options({"platform": "US1", "token": "t"})
    with pytest.raises(fake_module.FailJson) as caught:
        api.resolve_connection(fake_module(**parameters))
    assert caught.value.result["msg"] == expected


def test_invalid_env_option_keeps_default(monkeypatch):
    monkeypatch.setenv("QUALYS_TIMEOUT", "abc")
    monkeypatch.setenv("QUALYS_VALIDATE_CERTS", "maybe")
    parameters = validate_connection_options({"platform": "US1", "token": "t"})
    assert parameters["timeout"] == 30
    assert parameters["validate_certs"] is True


def test_task_option_beats_invalid_env(monkeypatch, fake_module):
    monkeypatch.setenv("QUALYS_TIMEOUT", "abc")
    monkeypatch.setenv("QUALYS_VALIDATE_CERTS", "maybe")
    parameters = validate_connection_options({"platform": "US1", "token": "t", "timeout": 12, "validate_certs": False})
    connection = api.resolve_connection(fake_module(**parameters))
    assert connection["timeout"] == 12
    assert connection["validate_certs"] is False


@pytest.mark.parametrize("value, expected", [("yes", True), ("0", False), (" False ", False), ("on", True)])
def test_env_validate_certs_accepted(monkeypatch, fake_module, value, expected):
    monkeypatch.setenv("QUALYS_VALIDATE_CERTS", value)
    parameters = validate_connection_options({"platform": "US1", "token": "t"})
    assert api.resolve_connection(fake_module(**parameters))["validate_certs"] is expected


def test_module_names_env_timeout(monkeypatch, capsys):
    monkeypatch.setenv("QUALYS_TIMEOUT", "ten")
    with patch_module_args({"gateway_url": GATEWAY, "token": TOKEN}):
        module = base.create_module({})
        with pytest.raises(SystemExit):
            api.resolve_connection(module)
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True
    assert result["msg"] == "Invalid QUALYS_TIMEOUT 'ten': set a whole number of seconds from 1 to 3600."


def test_module_accepts_module_defaults_token(capsys):
    with patch_module_args({"gateway_url": GATEWAY, "token": TOKEN, "username": "approver", "password": "approver-pass"}):
        module = base.create_module({})
        connection = api.resolve_connection(module)
    assert connection["token"] is None
    assert connection["username"] == "approver"
    assert capsys.readouterr().out == ""


def test_argument_spec_env_fallbacks(monkeypatch):
    monkeypatch.setenv("QUALYS_VALIDATE_CERTS", "no")
    monkeypatch.setenv("QUALYS_TIMEOUT", "7")
    monkeypatch.setenv("QUALYS_TOKEN", "env-token")
    validator = ArgumentSpecValidator(
        api.connection_argument_spec(),
        mutually_exclusive=api.CONNECTION_MUTUALLY_EXCLUSIVE,
        required_together=api.CONNECTION_REQUIRED_TOGETHER,
    )
    result = validator.validate({"password": "p", "username": "u"})
    assert result.error_messages == []
    assert result.validated_parameters["validate_certs"] is False
    assert result.validated_parameters["timeout"] == 7
    # Credentials have no argument-spec fallback, so QUALYS_TOKEN cannot clash with the task's password.
    assert result.validated_parameters["token"] is None


def test_argument_spec_task_value_wins(monkeypatch):
    monkeypatch.setenv("QUALYS_TIMEOUT", "7")
    result = ArgumentSpecValidator(api.connection_argument_spec()).validate({"timeout": 11})
    assert result.validated_parameters["timeout"] == 11


def test_client_from_module(monkeypatch, fake_module):
    monkeypatch.setenv("QUALYS_GATEWAY_URL", GATEWAY)
    module = fake_module(username="requester", password=PASSWORD, timeout=9)
    client = api.client_from_module(module, max_retries=2)
    assert client.gateway_url == GATEWAY
    assert client.timeout == 9
    assert client.max_retries == 2
    assert client._log_function == module.log  # pylint: disable=protected-access


def test_client_from_module_override(mocked, fake_module):
    module = fake_module(gateway_url=GATEWAY, token=TOKEN)
    client = api.client_from_module(module, username="approver", password="approver-pass")
    mocked.add(responses.POST, AUTH_URL, body=TOKEN_2, status=201)
    mocked.add(responses.PUT, STATUS_URL, status=204)
    client.set_order_status(UUID, "APPROVED", "ok")
    assert parse_qs(mocked.calls[0].request.body)["username"] == ["approver"]
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer " + TOKEN_2
    assert "approver-pass" in module.no_log_values


def test_client_from_module_password_beats_token(mocked, fake_module):
    module = fake_module(gateway_url=GATEWAY, token=TOKEN, username="approver", password="approver-pass")
    client = api.client_from_module(module)
    assert client._token is None  # pylint: disable=protected-access
    mocked.add(responses.POST, AUTH_URL, body=TOKEN_2, status=201)
    mocked.add(responses.PUT, STATUS_URL, status=204)
    client.set_order_status(UUID, "APPROVED", "ok")
    assert parse_qs(mocked.calls[0].request.body) == {"username": ["approver"], "password": ["approver-pass"], "token": ["true"], "permissions": ["true"]}
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer " + TOKEN_2
    for call in mocked.calls:
        assert TOKEN not in str(call.request.headers)


def test_module_accepts_token_with_password(fake_module):
    # A play may set token through module_defaults while a task sets an approver's username and password.
    validator = ArgumentSpecValidator(
        api.connection_argument_spec(),
        mutually_exclusive=api.CONNECTION_MUTUALLY_EXCLUSIVE,
        required_together=api.CONNECTION_REQUIRED_TOGETHER,
    )
    result = validator.validate({"gateway_url": GATEWAY, "token": TOKEN, "username": "approver", "password": "approver-pass"})
    assert result.error_messages == []
    connection = api.resolve_connection(fake_module(**result.validated_parameters))
    assert connection["token"] is None
    assert connection["password"] == "approver-pass"


def test_client_from_module_override_without_connection_credentials(fake_module):
    module = fake_module(gateway_url=GATEWAY)
    client = api.client_from_module(module, username="approver", password="approver-pass")
    assert client.gateway_url == GATEWAY


def test_client_from_module_incomplete_override(fake_module):
    with pytest.raises(fake_module.FailJson, match="Incomplete credentials"):
        api.client_from_module(fake_module(gateway_url=GATEWAY, token=TOKEN), username="approver")


def test_client_from_module_invalid_token(fake_module):
    with pytest.raises(fake_module.FailJson) as caught:
        api.client_from_module(fake_module(gateway_url=GATEWAY, token="two words"))
    assert "is not a valid token" in caught.value.result["msg"]


def test_require_requests_missing(monkeypatch, fake_module):
    monkeypatch.setattr(api, "HAS_REQUESTS", False)
    monkeypatch.setattr(api, "REQUESTS_IMPORT_ERROR", "Traceback: No module named 'requests'")
    with pytest.raises(fake_module.FailJson) as caught:
        api.require_requests(fake_module())
    assert "requests" in caught.value.result["msg"]
    assert caught.value.result["exception"] == "Traceback: No module named 'requests'"


# Real sockets on 127.0.0.1


def real_client(url, sleeps, logs, **kwargs):
    options = dict(token=TOKEN, timeout=2, sleep=sleeps.append, log=logs.append)
    options.update(kwargs)
    return api.CertViewClient(url, **options)


def test_real_refused_create_retried(refused_url, sleeps, logs):
    client = real_client(refused_url, sleeps, logs, max_retries=2)
    with pytest.raises(api.CertViewTransportError) as caught:
        client.create_order({})
    assert not isinstance(caught.value, api.OrderMayExistError)
    assert "Connection refused" in caught.value.message
    assert "no order was created" in caught.value.message
    assert sleeps == [1.0, 2.0]


def test_real_connect_timeout_create_retried(full_backlog_server, sleeps, logs):
    client = real_client(full_backlog_server.url, sleeps, logs, timeout=0.3, max_retries=1)
    with pytest.raises(api.CertViewTransportError) as caught:
        client.create_order({"comment": "x"})
    assert not isinstance(caught.value, api.OrderMayExistError)
    assert "timed out after 0.3 s" in caught.value.message
    assert sleeps == [1.0]
    assert b"POST" not in full_backlog_server.received_bytes()


def test_real_read_timeout_create_may_exist(raw_server, sleeps, logs):
    server = raw_server(["read_hang"])
    client = real_client(server.url, sleeps, logs, timeout=0.3)
    with pytest.raises(api.OrderMayExistError) as caught:
        client.create_order({"comment": "x"})
    assert_order_may_exist(caught.value)
    assert "read timeout" in caught.value.message
    assert [request[0] for request in server.requests] == ["POST"]
    assert sleeps == []


def test_real_dropped_after_read_create_may_exist(raw_server, sleeps, logs):
    server = raw_server(["read_close"])
    with pytest.raises(api.OrderMayExistError) as caught:
        real_client(server.url, sleeps, logs).create_order({"comment": "x"})
    assert_order_may_exist(caught.value)
    assert len(server.requests) == 1
    assert server.connections == 1


def test_real_closed_before_read_create_may_exist(raw_server, sleeps, logs):
    # The client cannot tell whether the server read the request before closing, so it must not resend.
    server = raw_server(["close"])
    with pytest.raises(api.OrderMayExistError):
        real_client(server.url, sleeps, logs).create_order({"comment": "x"})
    assert server.connections == 1


@pytest.mark.parametrize("status", [502, 504])
def test_real_gateway_error_create_may_exist(raw_server, sleeps, logs, status):
    server = raw_server([(status, {"Content-Type": "text/html"}, b"<html><body>upstream</body></html>")])
    with pytest.raises(api.OrderMayExistError) as caught:
        real_client(server.url, sleeps, logs).create_order({})
    assert caught.value.http_status == status
    assert len(server.requests) == 1


def test_real_503_create_may_exist(raw_server, sleeps, logs):
    # A proxy may send 503 after it forwarded the request, so even a Retry-After does not make a resend safe.
    server = raw_server([(503, {"Retry-After": "2"}, b""), (201, {"Content-Type": "application/json"}, b'{"uuid": "u-1"}')])
    with pytest.raises(api.OrderMayExistError) as caught:
        real_client(server.url, sleeps, logs).create_order({})
    assert_order_may_exist(caught.value)
    assert caught.value.to_result()["order_may_exist"] is True
    assert caught.value.http_status == 503
    assert [request[0] for request in server.requests] == ["POST"]
    assert sleeps == []


def test_real_dropped_get_retried(raw_server, sleeps, logs):
    server = raw_server(["read_close", "close", (200, {"Content-Type": "application/json"}, b'{"uuid": "u-1"}')])
    assert real_client(server.url, sleeps, logs).get_order("u-1") == {"uuid": "u-1"}
    assert sleeps == [1.0, 2.0]
    assert len(server.requests) == 2


def test_real_keep_alive_one_connection(raw_server, sleeps, logs):
    server = raw_server([], default=(200, {"Content-Type": "application/json"}, b'{"uuid": "u-1", "status": "ISSUED"}'))
    client = real_client(server.url, sleeps, logs, token=None, username="requester", password=PASSWORD)
    server.actions.append((201, {"Content-Type": "text/plain"}, TOKEN.encode()))
    client.get_order("u-1")
    client.get_order("u-1")
    client.wait_for_order("u-1")
    assert [request[1] for request in server.requests] == ["/auth"] + ["%s/u-1" % api.ORDERS_PATH] * 3
    assert server.connections == 1
    for line in logs:
        assert_no_secret(line)


def test_real_tls_untrusted_not_retried(raw_server, tls_context, sleeps, logs):
    server = raw_server([], tls_context=tls_context)
    with pytest.raises(api.CertViewTransportError) as caught:
        real_client(server.url, sleeps, logs).create_order({})
    assert not isinstance(caught.value, api.OrderMayExistError)
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.message
    assert "ca_path" in caught.value.message
    assert sleeps == []
    assert server.requests == []


def test_real_tls_ca_path_trusted(raw_server, tls_context, tls_files, sleeps, logs):
    server = raw_server([], tls_context=tls_context, default=(200, {"Content-Type": "application/json"}, b'{"uuid": "u-1"}'))
    assert real_client(server.url, sleeps, logs, ca_path=tls_files[0]).get_order("u-1") == {"uuid": "u-1"}


def test_real_tls_validation_off(raw_server, tls_context, sleeps, logs):
    server = raw_server([], tls_context=tls_context, default=(200, {"Content-Type": "application/json"}, b'{"uuid": "u-1"}'))
    client = real_client(server.url, sleeps, logs, validate_certs=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert client.get_order("u-1") == {"uuid": "u-1"}

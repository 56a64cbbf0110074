"""API errors and their two wire formats.

Qualys error responses carry a numeric code and a text. The simulator renders them as the classic
Qualys XML document by default and as the gateway's JSON form when configured:

    <SIMPLE_RETURN><RESPONSE><DATETIME>2020-09-01T08:54:50Z</DATETIME><CODE>1905</CODE>
    <TEXT>parameter signatureHash has invalid value MD5</TEXT></RESPONSE></SIMPLE_RETURN>

    {"errorCode": "1905", "message": "parameter signatureHash has invalid value MD5"}
"""

import datetime
import json
from xml.etree import ElementTree

from flask import Response

ERROR_FORMATS = ("xml", "json")

# Certificate View error codes.
MISSING_PARAMETERS = "1903"
ONLY_ONE_OF = "1904"
INVALID_VALUE = "1905"
UNSUPPORTED_COMBINATION = "1907"
NOT_EDITABLE_STATE = "1920"
AT_LEAST_ONE_OF = "1922"
API_ACCESS_DENIED = "2012"
MALFORMED_JSON = "140001"
FIELD_NOT_EDITABLE = "140002"
CA_NOT_SUPPORTED = "140004"
CA_API_KEY_MISSING = "140005"
INVALID_RENEWAL = "140006"
ORDER_TYPE_NOT_EDITABLE = "140007"
PERMISSION_DENIED = "148100"
LICENSES_EXHAUSTED = "148101"
ORDER_NOT_FOUND = "148200"

# Fixed texts of the codes whose text does not depend on the request. standard_error() appends details after ": ".
STANDARD_TEXTS = {
    API_ACCESS_DENIED: "User license is not authorized to run this API.",
    MALFORMED_JSON: "Malformed json",
    FIELD_NOT_EDITABLE: "Field is not editable",
    CA_NOT_SUPPORTED: "Enrollment is not supported for CA",
    CA_API_KEY_MISSING: "API key is not configured",
    INVALID_RENEWAL: "Invalid renewal certificate",
    ORDER_TYPE_NOT_EDITABLE: "Certificate order type is not editable",
    PERMISSION_DENIED: "User does not have required permissions",
    LICENSES_EXHAUSTED: "User has exhausted the allocated number of licenses",
    ORDER_NOT_FOUND: "Invalid certificate order",
    NOT_EDITABLE_STATE: "API resource is not editable",
}


class ApiError(Exception):
    """An error response: HTTP status, Qualys error code and text."""

    def __init__(self, http_status, code, text=None, headers=None):
        if text is None:
            text = STANDARD_TEXTS[code]
        super().__init__(text)
        self.http_status = http_status
        self.code = str(code)
        self.text = text
        self.headers = dict(headers or {})


def standard_error(http_status, code, detail=None):
    """Build an ApiError with the code's standard text, followed by the detail when given."""
    text = STANDARD_TEXTS[code]
    if detail:
        text = "%s: %s" % (text, detail)
    return ApiError(http_status, code, text)


def missing_parameters(names):
    return ApiError(400, MISSING_PARAMETERS, "Missing required parameter(s): " + ", ".join(names))


def only_one_of(names):
    return ApiError(400, ONLY_ONE_OF, "Please specify only one of these parameters: " + ", ".join(names))


def at_least_one_of(names):
    return ApiError(400, AT_LEAST_ONE_OF, "Please specify at least one of these parameters: " + ", ".join(names))


def invalid_value(name, value, reason=None):
    """Build the 1905 error that names the parameter and the rejected value."""
    text = "parameter %s has invalid value %s" % (name, describe_value(value))
    if reason:
        text = "%s (%s)" % (text, reason)
    return ApiError(400, INVALID_VALUE, text)


def describe_value(value, limit=80):
    """Return a short printable form of a request value for an error text."""
    if isinstance(value, str):
        text = value.replace("\r", " ").replace("\n", " ")
    else:
        text = json.dumps(value, sort_keys=True)
    if len(text) > limit:
        text = text[:limit] + "..."
    return text


def render_error(error, error_format):
    """Return the Flask response for an ApiError in the configured format."""
    if error_format == "json":
        body = json.dumps({"errorCode": error.code, "message": error.text})
        response = Response(body, status=error.http_status, mimetype="application/json")
    else:
        response = Response(error_xml(error.code, error.text), status=error.http_status, mimetype="application/xml")
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def error_xml(code, text):
    """Return the classic Qualys SIMPLE_RETURN document for an error."""
    root = ElementTree.Element("SIMPLE_RETURN")
    response = ElementTree.SubElement(root, "RESPONSE")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    ElementTree.SubElement(response, "DATETIME").text = stamp
    ElementTree.SubElement(response, "CODE").text = str(code)
    ElementTree.SubElement(response, "TEXT").text = text
    return '<?xml version="1.0" encoding="UTF-8" ?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"

"""Timestamp formatting and parsing in the forms Certificate View uses."""

import datetime
import re

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EPOCH_MS = re.compile(r"^\d{10,}$")
_BASIC_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def format_timestamp(moment):
    """Format a time as Certificate View does: 2020-09-01T08:54:50.473+0000."""
    moment = moment.astimezone(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d+0000" % (moment.microsecond // 1000)


def parse_date_or_time(text):
    """Parse YYYY-MM-DD or an ISO 8601 time with offset Z, +00:00 or +0000 into (moment, date_only), or return None.

    A time without an offset is taken as UTC, and a date alone as its midnight UTC.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    date_only = bool(_DATE_ONLY.match(text))
    if date_only:
        text += "T00:00:00+00:00"
    text = _BASIC_OFFSET.sub(r"\1:\2", text.replace("Z", "+00:00"))
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment, date_only


def parse_moment(value):
    """Parse epoch milliseconds (number or digit string), or a date or time as parse_date_or_time does, or return None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _EPOCH_MS.match(value.strip()):
        value = int(value.strip())
    if isinstance(value, (int, float)):
        try:
            return datetime.datetime.fromtimestamp(value / 1000, datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    parsed = parse_date_or_time(value)
    return parsed[0] if parsed else None

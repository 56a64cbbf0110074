# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures for the REST client tests: a fake AnsibleModule and raw socket servers on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import socketserver
import ssl
import threading
import time
from http import HTTPStatus

import pytest

from ansible_collections.qualys.certview.plugins.module_utils import _connection

CONNECTION_DEFAULTS = dict(
    platform=None,
    gateway_url=None,
    username=None,
    password=None,
    token=None,
    validate_certs=True,
    ca_path=None,
    timeout=30,
)

QUALYS_ENV = (
    "QUALYS_GATEWAY_URL",
    "QUALYS_PLATFORM",
    "QUALYS_USERNAME",
    "QUALYS_PASSWORD",
    "QUALYS_TOKEN",
    "QUALYS_VALIDATE_CERTS",
    "QUALYS_CA_PATH",
    "QUALYS_TIMEOUT",
)


class FailJson(Exception):
    """Exception that FakeModule.fail_json raises. ``result`` contains the keyword arguments."""

    def __init__(self, result):
        super().__init__(result.get("msg"))
        self.result = result


class FakeModule:
    """The parts of AnsibleModule that resolve_connection and client_from_module use."""

    FailJson = FailJson

    def __init__(self, **params):
        self.params = dict(CONNECTION_DEFAULTS, **params)
        self.no_log_values = set()
        self.warnings = []
        self.logs = []

    def fail_json(self, **result):
        raise FailJson(result)

    def warn(self, message):
        self.warnings.append(message)

    def log(self, message):
        self.logs.append(message)


@pytest.fixture
def fake_module():
    """Return the FakeModule class. ``fake_module.FailJson`` is the exception that its fail_json raises."""
    return FakeModule


@pytest.fixture(autouse=True)
def clean_qualys_env(monkeypatch):
    """Remove QUALYS_* variables of the calling shell so that every test sets its own.

    The invalid values that an earlier test's argument check recorded are cleared as well.
    """
    for name in QUALYS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_connection, "_INVALID_ENVIRONMENT", {})


class FakeClock:
    """A monotonic clock that only moves when ``sleep`` is called."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_clock():
    return FakeClock()


def _read_request(stream):
    """Read one HTTP/1.1 request from a file object and return (method, path, headers, body), or None at EOF."""
    request_line = stream.readline()
    if not request_line or not request_line.strip():
        return None
    method, path, _version = request_line.decode("latin-1").split(" ", 2)
    headers = {}
    while True:
        line = stream.readline()
        if not line or line in (b"\r\n", b"\n"):
            break
        name, _sep, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers.get("content-length", "0") or 0))
    return method, path, headers, body


class RawServer:
    """A TCP server on 127.0.0.1 whose connections follow a script of actions.

    Each action applies to the next request, except "close", which applies to the next
    connection before anything is read:
      "close"            accept the connection and close it without reading
      "read_close"       read the request, then close without responding
      "read_hang"        read the request, then keep the connection open without responding
      (status, headers, body)  respond, and keep the connection open for the next request
    When the script runs out, every request gets ``default``.
    """

    def __init__(self, actions, default=(200, {"Content-Type": "application/json"}, b"{}"), tls_context=None):
        self.actions = list(actions)
        self.default = default
        self.tls_context = tls_context
        self.connections = 0
        self.requests = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                server.handle_connection(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        scheme = "https" if tls_context else "http"
        self.url = "%s://127.0.0.1:%d" % (scheme, self.port)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _next_action(self, connection_start):
        with self.lock:
            if connection_start:
                self.connections += 1
                if self.actions and self.actions[0] == "close":
                    return self.actions.pop(0)
                return None
            if self.actions:
                return self.actions.pop(0)
            return self.default

    def handle_connection(self, sock):
        if self._next_action(connection_start=True) == "close":
            sock.close()
            return
        if self.tls_context is not None:
            try:
                sock = self.tls_context.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                return
        stream = sock.makefile("rb")
        try:
            while not self.stopped.is_set():
                try:
                    request = _read_request(stream)
                except (OSError, ValueError):
                    return
                if request is None:
                    return
                with self.lock:
                    self.requests.append(request)
                action = self._next_action(connection_start=False)
                if action == "read_close":
                    return
                if action == "read_hang":
                    self.stopped.wait(10)
                    return
                status, headers, body = action
                head = ["HTTP/1.1 %d %s" % (status, HTTPStatus(status).phrase)]
                headers = dict(headers)
                headers.setdefault("Content-Length", str(len(body)))
                head.extend("%s: %s" % item for item in headers.items())
                sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        finally:
            stream.close()
            sock.close()

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def raw_server():
    """Return a factory for started RawServer instances, which are all stopped after the test."""
    servers = []

    def start(actions, **kwargs):
        server = RawServer(actions, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def refused_url():
    """Return an http URL on 127.0.0.1 whose port is bound but not listening, so connecting is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield "http://127.0.0.1:%d" % sock.getsockname()[1]
    sock.close()


class FullBacklogServer:
    """A listening socket whose accept queue is full, so the kernel drops new SYNs and connecting times out."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.url = "http://127.0.0.1:%d" % self.listener.getsockname()[1]
        self.fillers = []
        for _index in range(4):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            try:
                filler.connect(self.listener.getsockname())
            except BlockingIOError:
                pass
            self.fillers.append(filler)
        time.sleep(0.1)

    def received_bytes(self):
        """Accept every queued connection and return the bytes that arrived on them."""
        self.listener.setblocking(False)
        data = b""
        while True:
            try:
                conn, _address = self.listener.accept()
            except BlockingIOError:
                return data
            conn.settimeout(0.2)
            try:
                data += conn.recv(65536)
            except OSError:
                pass
            conn.close()

    def close(self):
        for filler in self.fillers:
            filler.close()
        self.listener.close()


@pytest.fixture
def full_backlog_server():
    if not hasattr(socket, "SOMAXCONN") or os.name != "posix":
        pytest.skip("needs a POSIX TCP stack that drops SYNs when the accept queue is full")
    server = FullBacklogServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """Create a self-signed certificate for 127.0.0.1 and return (cert_path, key_path)."""
    pytest.importorskip("cryptography")
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_path = directory / "server.pem"
    key_path = directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture
def tls_context(tls_files):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    return context

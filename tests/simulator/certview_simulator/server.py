"""SimulatorServer: the Flask app on werkzeug's threaded server in a background thread, with optional TLS.

Typical use in a test: ``srv = SimulatorServer(issue_delay=1.0, post_delay=0.2).start()``, then
requests against ``srv.url`` (http://127.0.0.1:PORT), then ``srv.stop()``. The class is also a
context manager.
"""

import logging
import os
import shutil
import ssl
import tempfile
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from . import crypto
from .app import create_app
from .state import SimulatorConfig, SimulatorState

logger = logging.getLogger("certview_simulator")

TLS_CA_FILE = "ca.pem"
TLS_CERT_FILE = "server-cert.pem"
TLS_KEY_FILE = "server-key.pem"
CHAIN_FILE = "digicert-test-chain.pem"
# Seconds a connection may stay idle before the server gives up on it.
CONNECTION_TIMEOUT = 60


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, with the TLS handshake done in the request thread and log lines sent to this package's logger.

    werkzeug's own TLS setup makes accept() perform the handshake, and accept() runs in the one thread
    that serves all new connections. A client that connects and then sends nothing would stall the server.
    """

    timeout = CONNECTION_TIMEOUT

    def handle(self):
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError) as error:
                logger.info("TLS handshake with %s failed: %s", self.client_address[0], error)
                return
        super().handle()

    def log_request(self, code="-", size="-"):
        # werkzeug's version adds terminal colour codes to the line.
        logger.info('%s "%s" %s %s', self.address_string(), self.requestline, code, size)

    def log(self, type, message, *args):  # pylint: disable=redefined-builtin
        level = logging.ERROR if type == "error" else logging.INFO
        logger.log(level, "%s " + message, self.address_string(), *args)


def _write_file(path, text, mode=0o644):
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text)
    os.chmod(path, mode)


class SimulatorServer:
    """A running simulator on host:port (port 0 picks a free port).

    With tls=True the server generates a TLS CA and a server certificate for 127.0.0.1 and
    localhost (plus the host when it differs) and writes the CA to ca.pem in state_dir. Without a
    state_dir it uses a temporary directory, which stop() removes. The other arguments are the
    initial settings that POST /_sim/config may change and POST /_sim/reset restores.
    """

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        tls=False,
        state_dir=None,
        issue_delay=2.0,
        post_delay=0.5,
        error_format="xml",
        token_lifetime=4 * 3600.0,
        license_limit=None,
        create_status=201,
    ):
        self.host = host
        self.requested_port = port
        self.tls = tls
        self.state_dir = state_dir
        self.config = SimulatorConfig(issue_delay, post_delay, token_lifetime, error_format, license_limit, create_status)
        self.config.validate()
        self.state = None
        self.app = None
        self.ca_path = None
        self.ca_pem = None
        self._server = None
        self._thread = None
        self._temporary_dir = None

    def start(self):
        """Generate the CA material, bind the port, serve in a daemon thread and return self."""
        if self._server is not None:
            raise RuntimeError("the simulator is already running on %s" % self.url)
        self.state = SimulatorState(self.config)
        self.app = create_app(self.state)
        try:
            server = make_server(self.host, self.requested_port, self.app, threaded=True, request_handler=_RequestHandler)
        except SystemExit:
            # werkzeug prints the bind error and calls sys.exit(), but a library caller needs an exception.
            raise OSError("cannot listen on %s:%s" % (self.host, self.requested_port)) from None
        try:
            if self.tls or self.state_dir:
                self._prepare_state_dir()
            if self.tls:
                self._enable_tls(server)
        except BaseException:
            server.server_close()
            raise
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="certview-simulator", daemon=True)
        self._thread.start()
        logger.info("certview simulator serving on %s", self.url)
        return self

    def _prepare_state_dir(self):
        if self.state_dir is None:
            self._temporary_dir = tempfile.mkdtemp(prefix="certview-simulator-")
            self.state_dir = self._temporary_dir
        os.makedirs(self.state_dir, exist_ok=True)
        _write_file(os.path.join(self.state_dir, CHAIN_FILE), self.state.pki.chain_pem())

    def _enable_tls(self, server):
        hosts = ["127.0.0.1", "localhost"]
        if self.host not in hosts:
            hosts.append(self.host)
        ca_certificate, server_certificate, server_key = crypto.make_tls_material(hosts)
        self.ca_pem = crypto.certificate_pem(ca_certificate)
        self.ca_path = os.path.join(self.state_dir, TLS_CA_FILE)
        cert_path = os.path.join(self.state_dir, TLS_CERT_FILE)
        key_path = os.path.join(self.state_dir, TLS_KEY_FILE)
        _write_file(self.ca_path, self.ca_pem)
        _write_file(cert_path, crypto.certificate_pem(server_certificate) + self.ca_pem)
        _write_file(key_path, crypto.private_key_pem(server_key), mode=0o600)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_path, key_path)
        # The handshake happens in _RequestHandler.handle, in the connection's own thread.
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        server.ssl_context = context

    @property
    def port(self):
        return self._server.server_address[1] if self._server is not None else None

    @property
    def url(self):
        if self._server is None:
            return None
        scheme = "https" if self.tls else "http"
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s://%s:%d" % (scheme, host, self.port)

    def stop(self):
        """Stop serving, close the socket and remove a temporary state directory."""
        if self._server is None:
            return
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()
        self._server = None
        self._thread = None
        if self._temporary_dir is not None:
            shutil.rmtree(self._temporary_dir, ignore_errors=True)
            self._temporary_dir = None
            self.state_dir = None
        logger.info("certview simulator stopped")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

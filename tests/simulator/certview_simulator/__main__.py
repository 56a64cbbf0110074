"""Command line: python -m certview_simulator [--host H] [--port P] [--tls] [--state-dir DIR] [--port-file FILE] ...

Writes the base URL to --port-file when given, then prints one line "certview-simulator listening
on URL" once the server accepts connections, and serves until SIGINT or SIGTERM.
"""

import argparse
import logging
import os
import signal
import sys
import threading

from .errors import ERROR_FORMATS
from .server import SimulatorServer


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(prog="python -m certview_simulator", description="Serve the Certificate View enrollment API simulator.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="TCP port, where 0 picks a free port (default: %(default)s)")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a generated CA, written to STATE_DIR/ca.pem")
    parser.add_argument("--state-dir", help="directory for ca.pem and the other generated files (default with --tls: a temporary directory)")
    parser.add_argument("--port-file", help="file to write the base URL to once the server listens")
    parser.add_argument("--issue-delay", type=float, default=2.0, help="seconds from POSTED to ISSUED (default: %(default)s)")
    parser.add_argument("--post-delay", type=float, default=0.5, help="seconds from APPROVED to POSTED (default: %(default)s)")
    parser.add_argument("--token-lifetime", type=float, default=4 * 3600.0, help="bearer token lifetime in seconds (default: %(default)s)")
    parser.add_argument("--error-format", choices=ERROR_FORMATS, default="xml", help="error body format (default: %(default)s)")
    parser.add_argument("--license-limit", type=int, default=None, help="maximum number of live orders before 148101 (default: no limit)")
    parser.add_argument("--quiet", action="store_true", help="log only warnings and errors")
    return parser.parse_args(argv)


def _write_port_file(path, url):
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(url + "\n")
    os.replace(temporary, path)


def main(argv=None):
    arguments = parse_arguments(argv)
    logging.basicConfig(level=logging.WARNING if arguments.quiet else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    server = SimulatorServer(
        host=arguments.host,
        port=arguments.port,
        tls=arguments.tls,
        state_dir=arguments.state_dir,
        issue_delay=arguments.issue_delay,
        post_delay=arguments.post_delay,
        error_format=arguments.error_format,
        token_lifetime=arguments.token_lifetime,
        license_limit=arguments.license_limit,
    )
    try:
        server.start()
    except (OSError, ValueError) as error:
        print("certview-simulator: failed to start: %s" % error, file=sys.stderr)
        return 1

    stopping = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stopping.set())
    # The port file comes first, so a reader of the "listening" line can rely on it.
    if arguments.port_file:
        _write_port_file(arguments.port_file, server.url)
    if arguments.tls:
        print("certview-simulator TLS CA: %s" % server.ca_path, flush=True)
    print("certview-simulator listening on %s" % server.url, flush=True)

    try:
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
        if arguments.port_file and os.path.exists(arguments.port_file):
            os.remove(arguments.port_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())

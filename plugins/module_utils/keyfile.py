# -*- coding: utf-8 -*-
# Copyright (c) qualys.certview contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Store the private key of a service-generated CSR.

Certificate View returns that key in the create response only. The file is
therefore created, empty and with mode 0600, before the create request is
sent, so that nothing can stop the key from being written once the order
exists.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


class KeyFileError(Exception):
    """The key file cannot be created or written."""


class ReservedKeyFile:
    """A new, empty file of mode 0600 that will receive a private key."""

    def __init__(self, path):
        self.path = path
        self._fd = None

    def reserve(self):
        """Create the file. Fails when it exists, so an earlier key is never overwritten."""
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise KeyFileError("The folder %s of private_key_path does not exist: create it first." % directory)
        if os.path.isdir(self.path):
            raise KeyFileError("private_key_path %s is a folder: give the path of the key file to create in it." % self.path)
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyFileError(
                "private_key_path %s already exists and may hold the key of an earlier order: move it away or choose another path." % self.path
            )
        except OSError as error:
            raise KeyFileError("Cannot create private_key_path %s: %s." % (self.path, error.strerror))
        os.fchmod(self._fd, 0o600)

    def write(self, key_pem):
        """Write the key, flush it to disk and close the file."""
        data = key_pem if key_pem.endswith("\n") else key_pem + "\n"
        try:
            os.write(self._fd, data.encode("ascii"))
            os.fsync(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None

    def discard(self):
        """Remove the still empty file when no order was created."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            os.unlink(self.path)

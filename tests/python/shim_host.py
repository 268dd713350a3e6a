"""shim_host - the host's side of a session with hearth_shim.py, for tests.

Starts the shim as a subprocess the way hearth-init execs it (python3 -I,
the connection as an inherited descriptor named by HEARTH_FD), here over a
socketpair, and speaks PROTOCOL.md to it with hearth_proto. Every frame the
shim sends is checked against the protocol's order for an invocation.
"""

import json
import os
import socket
import subprocess
import sys
from collections import namedtuple

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(TESTS_DIR))
SHIM_DIR = os.environ.get("HEARTH_SHIM_DIR", os.path.join(SOURCE_DIR, "images", "python", "shim"))
SHIM = os.path.join(SHIM_DIR, "hearth_shim.py")
HANDLERS = os.path.join(TESTS_DIR, "handlers")
EXAMPLES = os.path.join(SOURCE_DIR, "examples")
# The guest runs Debian's python; so do the tests (never a pyenv one on PATH).
PYTHON = os.environ.get("HEARTH_TEST_PYTHON", "/usr/bin/python3")
# A shim that stops answering fails the test instead of hanging it.
SOCKET_TIMEOUT_S = 120

sys.path.insert(0, SHIM_DIR)
import hearth_proto as proto  # noqa: E402

Result = namedtuple("Result", "response logs result")


class ShimError(AssertionError):
    pass


def handler_path(name):
    return os.path.join(HANDLERS, name + ".py")


class Shim:
    """One shim process and the host end of its connection."""

    def __init__(self, handler, env=None, code_files=3, code_bytes=1234, listener=None):
        """listener: a listening socket passed as HEARTH_LISTEN_FD, as
        hearth-init passes its vsock listener when LOAD asks for "snapshot"."""
        host, guest = socket.socketpair()
        fds = [guest.fileno()] + ([listener.fileno()] if listener is not None else [])
        full_env = {
            "LANG": "C.UTF-8",
            "HEARTH_FD": str(guest.fileno()),
            "HEARTH_HANDLER": handler,
            "HEARTH_CODE_FILES": str(code_files),
            "HEARTH_CODE_BYTES": str(code_bytes),
            "HEARTH_IMAGE": "python-test",
            "HEARTH_BOOT_ID": "boot-test",
        }
        if listener is not None:
            full_env["HEARTH_LISTEN_FD"] = str(listener.fileno())
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [PYTHON, "-I", SHIM],
            env=full_env,
            pass_fds=fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        guest.close()
        host.settimeout(SOCKET_TIMEOUT_S)
        self.sock = host
        self.stdout = self.stderr = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()

    def read_frame(self):
        return proto.read_frame(self.sock)

    def read_control(self, expected_type):
        frame = self.read_frame()
        if frame is None:
            raise ShimError("connection closed, expected %s" % proto.type_name(expected_type))
        if frame.type != expected_type:
            detail = frame.payload[:2000] if frame.type != proto.DATA else b""
            raise ShimError(
                "expected %s, got %s %r"
                % (proto.type_name(expected_type), proto.type_name(frame.type), detail)
            )
        return proto.decode_control(frame.payload)

    def loaded(self):
        return self.read_control(proto.LOADED)

    def send_invoke(self, event=b"", content_type="application/octet-stream", **members):
        invoke = {"request_id": members.pop("request_id", "req-1"), "content_type": content_type}
        invoke.update(members)
        proto.write_control(self.sock, proto.INVOKE, invoke)
        proto.write_data(self.sock, proto.STREAM_EVENT, event)
        proto.write_end(self.sock, proto.STREAM_EVENT)

    def invoke(self, event=b"", content_type="application/octet-stream", **members):
        """One whole invocation; returns its response, logs and RESULT."""
        if isinstance(event, (dict, list)):
            event = json.dumps(event).encode()
        self.send_invoke(event, content_type, **members)
        return self.collect()

    def collect(self):
        """Reads DATA(RESPONSE|LOG)* END(RESPONSE) END(LOG) RESULT."""
        response, logs = bytearray(), bytearray()
        ended = []
        while True:
            frame = self.read_frame()
            if frame is None:
                raise ShimError("connection closed inside an invocation")
            if frame.type == proto.DATA and frame.stream not in ended:
                if frame.stream == proto.STREAM_RESPONSE:
                    response += frame.payload
                elif frame.stream == proto.STREAM_LOG:
                    logs += frame.payload
                else:
                    raise ShimError("DATA on stream %d" % frame.stream)
            elif frame.type == proto.END and frame.stream not in ended:
                ended.append(frame.stream)
            elif frame.type == proto.RESULT:
                if ended != [proto.STREAM_RESPONSE, proto.STREAM_LOG]:
                    raise ShimError("RESULT after END of streams %r" % ended)
                return Result(bytes(response), bytes(logs), proto.decode_control(frame.payload))
            else:
                raise ShimError(
                    "unexpected %s frame on stream %d" % (proto.type_name(frame.type), frame.stream)
                )

    def finish(self):
        """Closes the host's end; returns the shim's exit status."""
        self.sock.shutdown(socket.SHUT_WR)
        if self.read_frame() is not None:
            raise ShimError("the shim sent a frame after the host closed")
        self.stdout, self.stderr = self.proc.communicate(timeout=SOCKET_TIMEOUT_S)
        return self.proc.returncode

    def wait_exit(self):
        """The shim's exit status once it ends by itself."""
        self.stdout, self.stderr = self.proc.communicate(timeout=SOCKET_TIMEOUT_S)
        return self.proc.returncode

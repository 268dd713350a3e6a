"""hearth_shim - the python image's runtime: serves a handler's invocations.

hearth-init receives the code, then execs `python3 -I hearth_shim.py` with
the connection to the host as descriptor HEARTH_FD (PROTOCOL.md). The shim
imports the handler file HEARTH_HANDLER once, answers LOADED (or ERROR
load_failed / no_handle), then serves INVOKE after INVOKE until the host
closes the connection:

    INVOKE + EVENT stream  ->  handle(event, context)
                           ->  DATA(LOG)* as the handler writes,
                               DATA(RESPONSE)*, END(RESPONSE), END(LOG), RESULT

The event is held in memory (it is the handler's argument), bounded by
HEARTH_EVENT_CAP (default 64 MiB): application/json events are decoded (an
empty body is None), others are bytes. handle() returns a dict or list
(sent as compact JSON), str (UTF-8), bytes-like, or None (nothing).
print(), sys.stdout/sys.stderr and so the logging module's stream handlers
write the LOG stream, line by line, never the response; between
invocations they write the original stdout/stderr. Output written to
descriptors 1 and 2 directly (os.write, C extensions) is not captured.

When hearth-init passes its vsock listener (HEARTH_LISTEN_FD: the host's
LOAD asked for "snapshot"), the shim is at the function snapshot point
while it waits for the first INVOKE of a connection: if that connection
ends first (a VM restored from a snapshot taken there finds it reset), it
accepts the next host, reseeds what the process cached (after_restore) and
says HELLO again with a fresh boot id and "restored": true (PROTOCOL.md,
"Snapshots").

The shim does not enforce the timeout (the host does); context tells the
handler how much of it is left. It uses only read, write and writev on the
connection, so it runs the same under hearth-vmm's guest kernel and on a
Linux host, where the tests run it over a socketpair.
"""

import _thread
import errno
import importlib.util
import io
import json
import os
import sys
import time
import traceback

# Never write bytecode: the image is read-only (its .pyc files are made when
# it is built) and /code is in memory and thrown away with the VM.
sys.dont_write_bytecode = True
# -I leaves the script's directory off sys.path: find hearth_proto beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hearth_proto as proto  # noqa: E402

del sys.path[0]

EVENT_CAP_DEFAULT = 64 << 20
LOG_FLUSH_AT = 64 << 10  # a line longer than this is sent in pieces
JSON_TYPES = ("application/json",)


class HostGone(BaseException):
    """The connection to the host failed: nothing more can be sent, so it
    unwinds through handler code (a BaseException, past `except Exception`)."""


class EventTooLarge(Exception):
    pass


class BadInvoke(Exception):
    """An INVOKE frame whose JSON or members break PROTOCOL.md."""


class LoadError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class Connection:
    """The host connection: proto's frame I/O (reads through a read-ahead
    buffer, as the shim is the connection's only reader), with failures of
    the descriptor itself as HostGone."""

    def __init__(self, fd):
        self.fd = fd
        self.reader = proto.FrameReader(fd)

    def read_frame(self):
        try:
            return self.reader.read_frame()
        except OSError as e:
            raise HostGone(str(e)) from None

    def send_frames(self, frames):
        try:
            proto.write_frames(self.fd, frames)
        except OSError as e:
            raise HostGone(str(e)) from None

    def send_data(self, stream, data):
        self.send_frames(proto.data_frames(stream, data))

    def send_control(self, frame_type, obj):
        self.send_frames([(frame_type, proto.STREAM_NONE, proto.encode_control(obj))])

    def send_error(self, code, message):
        proto.send_error(self.fd, code, message)

    def replace(self, fd):
        """Goes on over fd, a new connection; the old one is closed."""
        os.close(self.fd)
        self.fd = fd
        self.reader = proto.FrameReader(fd)


# ---- the LOG stream ------------------------------------------------------------------------


class LogSink:
    """One invocation's LOG stream: bytes are sent as DATA(LOG) frames at
    each newline (or LOG_FLUSH_AT bytes) up to the cap; bytes past the cap
    are counted, not sent. Closed once END(LOG) is due: later writes (a
    thread, a stashed context) are dropped."""

    def __init__(self, conn, cap):
        self.conn = conn
        self.cap = cap
        self.sent = 0
        self.produced = 0
        self.pending = bytearray()
        self.closed = False
        self.lock = _thread.RLock()  # handler threads may write at once

    @property
    def truncated(self):
        return self.produced > self.sent + len(self.pending)

    def write(self, data):
        with self.lock:
            if self.closed:
                return
            self.produced += len(data)
            room = self.cap - self.sent - len(self.pending)
            self.pending += data[: max(room, 0)]
            if b"\n" in data or len(self.pending) >= LOG_FLUSH_AT:
                self.flush()

    def write_text(self, text):
        self.write(text.encode("utf-8", "backslashreplace"))

    def flush(self):
        with self.lock:
            if self.pending and not self.closed:
                data, self.pending = bytes(self.pending), bytearray()
                self.sent += len(data)
                self.conn.send_data(proto.STREAM_LOG, data)

    def close(self):
        with self.lock:
            self.flush()
            self.closed = True


class LogRouter:
    """Where sys.stdout and sys.stderr go: the current invocation's sink,
    or between invocations the original streams."""

    def __init__(self):
        self.sink = None


class LogBytes(io.RawIOBase):
    """sys.stdout.buffer / sys.stderr.buffer: bytes into the same sink."""

    def __init__(self, router, fallback):
        super().__init__()
        self._router = router
        self._fallback = fallback

    def writable(self):
        return True

    def write(self, data):
        data = bytes(data)
        sink = self._router.sink
        if sink is not None:
            sink.write(data)
        elif self._fallback is not None:
            self._fallback.write(data)
            self._fallback.flush()
        return len(data)


class LogText(io.TextIOBase):
    """sys.stdout / sys.stderr: text into the sink as UTF-8, unbuffered
    here (the sink buffers up to a newline)."""

    def __init__(self, router, fallback, name):
        super().__init__()
        self._router = router
        self._fallback = fallback
        self._name = name
        self.buffer = LogBytes(router, getattr(fallback, "buffer", None))

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "backslashreplace"

    @property
    def name(self):
        return self._name

    @property
    def line_buffering(self):
        return True

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        # Code that needs a real descriptor (faulthandler) gets the original one.
        if self._fallback is None:
            raise io.UnsupportedOperation("fileno")
        return self._fallback.fileno()

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        sink = self._router.sink
        if sink is not None:
            sink.write_text(text)
        elif self._fallback is not None:
            self._fallback.write(text)
            self._fallback.flush()
        return len(text)

    def flush(self):
        sink = self._router.sink
        if sink is not None:
            sink.flush()


def install_log_streams():
    """Replaces sys.stdout and sys.stderr for good (before the handler is
    imported, so a logging handler made at import holds ours)."""
    router = LogRouter()
    sys.stdout = LogText(router, sys.__stdout__, "<stdout>")
    sys.stderr = LogText(router, sys.__stderr__, "<stderr>")
    return router


# ---- loading the handler -------------------------------------------------------------------


def _user_traceback(exc):
    """The traceback of exc without the shim's and importlib's own frames."""
    tb = exc.__traceback__
    while tb is not None and (
        tb.tb_frame.f_code.co_filename == __file__
        or tb.tb_frame.f_code.co_filename.startswith("<frozen importlib")
    ):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _clip_tail(text, limit=proto.STRING_MAX):
    """The end of text within a protocol string's limit (a traceback's
    last lines say what went wrong)."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    return "...\n" + data[len(data) - limit + 4 :].decode("utf-8", "ignore")


def load_handler(path):
    """Imports the handler file once, as a module named after the file, its
    directory first on sys.path (so code it ships imports first). Returns
    the module, or raises LoadError."""
    directory, filename = os.path.split(os.path.abspath(path))
    name, suffix = os.path.splitext(filename)
    if suffix != ".py" or not name:
        raise LoadError("load_failed", "handler %s is not a .py file" % path)
    if name in sys.modules:
        raise LoadError(
            "load_failed",
            "handler module name %r is taken by a module the runtime uses; rename %s"
            % (name, filename),
        )
    sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as e:  # SystemExit at import is a failed load too
        del sys.modules[name]
        raise LoadError("load_failed", _clip_tail(_user_traceback(e))) from None
    if not callable(getattr(module, "handle", None)):
        raise LoadError("no_handle", "%s defines no callable handle(event, context)" % path)
    return module


def after_restore(module):
    """Run in a VM restored from a function snapshot, before its first
    INVOKE: reseeds what the runtime cached (the random module's generator
    from os.urandom, OpenSSL's generator when ssl is loaded), then runs the
    handler module's own after_restore() if it defines one (to reseed
    generators or reopen what it made at import). os.urandom, uuid4 and
    secrets need nothing: every call asks the VMM for fresh bytes."""
    random = sys.modules.get("random")
    if random is not None:
        random.seed()
    ssl = sys.modules.get("ssl")
    if ssl is not None and hasattr(ssl, "RAND_add"):
        ssl.RAND_add(os.urandom(32), 32.0)
    hook = getattr(module, "after_restore", None)
    if callable(hook):
        hook()


# ---- one invocation ------------------------------------------------------------------------


class Invocation:
    """An INVOKE frame's members, checked as hearth-init checks them for a
    native handler (BadInvoke otherwise)."""

    def __init__(self, payload):
        try:
            self._parse(proto.decode_control(payload))
        except proto.ProtocolError as e:
            raise BadInvoke("INVOKE: %s" % e) from None

    def _parse(self, msg):
        self.request_id = proto.control_string(msg, "request_id")
        if not self.request_id:
            raise proto.ProtocolError(errno.EINVAL, "empty 'request_id'")
        self.content_type = proto.control_string(msg, "content_type")
        self.function = proto.control_string(msg, "function", "")
        self.env = proto.control_env(msg, "env", {})
        for name in self.env:
            if not name or "=" in name:
                raise proto.ProtocolError(errno.EINVAL, "env name %r" % name)
        self.timeout_ms = proto.control_int(msg, "timeout_ms", None)
        self.memory_mb = proto.control_int(msg, "memory_mb", None)
        # 0 means the default, as in hearth_abi.h's framed stdio.
        self.response_cap = proto.control_int(msg, "response_cap", 0) or proto.RESPONSE_CAP_DEFAULT
        self.log_cap = proto.control_int(msg, "log_cap", 0) or proto.LOG_CAP_DEFAULT


class Context:
    """handle()'s second argument: about this invocation."""

    def __init__(self, invocation, sink, started):
        self.request_id = invocation.request_id
        self.function_name = invocation.function
        self.memory_limit_in_mb = invocation.memory_mb
        self._sink = sink
        self._deadline = None
        if invocation.timeout_ms is not None:
            self._deadline = started + invocation.timeout_ms / 1000.0

    def get_remaining_time_in_millis(self):
        """Milliseconds left before the host's timeout (None: no timeout)."""
        if self._deadline is None:
            return None
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def log(self, message):
        """Writes message (a line) to the invocation's logs."""
        text = str(message)
        self._sink.write_text(text if text.endswith("\n") else text + "\n")


class Failed(Exception):
    """A failed invocation: `str(self)` is RESULT's error, `log` the logs' account."""

    def __init__(self, error, log):
        super().__init__(error)
        self.log = log


def read_event(conn, cap):
    """The EVENT stream's bytes (DATA(EVENT)* END(EVENT)), at most cap."""
    data = bytearray()
    while True:
        frame = conn.read_frame()
        if frame is None:
            raise proto.ProtocolError(errno.EPIPE, "connection closed inside the EVENT stream")
        if frame.stream != proto.STREAM_EVENT or frame.type not in (proto.DATA, proto.END):
            raise proto.ProtocolError(
                errno.EPROTO,
                "%s frame on stream %d inside the EVENT stream"
                % (proto.type_name(frame.type), frame.stream),
            )
        if frame.type == proto.END:
            return bytes(data)
        if len(data) + len(frame.payload) > cap:
            raise EventTooLarge("event over %d bytes" % cap)
        data += frame.payload


def decode_event(data, content_type):
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in JSON_TYPES:
        return data
    if not data:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise Failed(
            "invalid JSON event: %s" % e,
            "hearth: the event is not valid JSON (content type %s): %s\n" % (content_type, e),
        ) from None


def encode_response(value):
    """handle()'s return value as the response bytes (bytes-like)."""
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray)):
        return value
    if isinstance(value, memoryview):
        return value.cast("B") if value.c_contiguous else value.tobytes()
    try:
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, (dict, list)):
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            return text.encode("utf-8")
    except (TypeError, ValueError, RecursionError) as e:
        raise Failed(
            "response not encodable: %s" % e,
            "hearth: cannot encode the %s handle() returned: %s\n" % (type(value).__name__, e),
        ) from None
    raise Failed(
        "unsupported return type %s" % type(value).__name__,
        "hearth: handle() returned a %s; return a dict, list, str, bytes or None\n"
        % type(value).__name__,
    )


def _first_line(exc):
    lines = traceback.format_exception_only(type(exc), exc)
    text = "".join(lines).strip().splitlines()
    return text[0] if text else type(exc).__name__


def call_handler(handle, invocation, data, sink, started):
    """Runs handle(); returns the response bytes, or raises Failed."""
    event = decode_event(data, invocation.content_type)
    context = Context(invocation, sink, started)
    try:
        value = handle(event, context)
    except HostGone:
        raise
    except BaseException as e:  # sys.exit() in a handler is a failure too
        raise Failed(_first_line(e), _user_traceback(e)) from None
    return encode_response(value)


def apply_env(env):
    """Sets INVOKE's env in os.environ; returns what restore_env needs."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    return saved


def restore_env(saved):
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def run_invocation(conn, router, handle, invocation, data):
    """One invocation, the handler's logs streamed as it runs; then the
    response, both ENDs and RESULT go out together."""
    started = time.monotonic()
    sink = LogSink(conn, invocation.log_cap)
    router.sink = sink
    saved = apply_env(invocation.env)
    body, error = b"", None
    try:
        body = call_handler(handle, invocation, data, sink, started)
    except Failed as failure:
        error = proto.clip_utf8(str(failure))
        sink.write_text(failure.log)
    finally:
        restore_env(saved)
        router.sink = None
    sink.close()
    duration_us = int((time.monotonic() - started) * 1e6)
    view = memoryview(body)
    sent = min(len(view), invocation.response_cap)  # bytes past the cap are counted only
    result = {
        "status": "ok" if error is None else "error",
        "exit_status": 0 if error is None else 1,
        "duration_us": duration_us,
        "response_bytes": sent,
        "response_truncated": len(view) > sent,
        "log_bytes": sink.sent,
        "logs_truncated": sink.truncated,
    }
    if error is not None:
        result["error"] = error
    frames = proto.data_frames(proto.STREAM_RESPONSE, view[:sent])
    frames.append((proto.END, proto.STREAM_RESPONSE, b""))
    frames.append((proto.END, proto.STREAM_LOG, b""))
    frames.append((proto.RESULT, proto.STREAM_NONE, proto.encode_control(result)))
    conn.send_frames(frames)


def rejoin(conn, listener, module):
    """After a reset at the snapshot point: the next host on listener, the
    process reseeded, HELLO with a fresh boot id and "restored": true."""
    try:
        fd, _ = listener._accept()
    except OSError as e:
        raise HostGone("accept: %s" % e) from None
    conn.replace(fd)
    after_restore(module)
    boot_id = os.urandom(16).hex()
    os.environ["HEARTH_BOOT_ID"] = boot_id
    hello = {
        "protocol": proto.VERSION,
        "image": os.environ.get("HEARTH_IMAGE", ""),
        "runtime": "python",
        "boot_id": boot_id,
        "restored": True,
    }
    conn.send_control(proto.HELLO, hello)


def serve(conn, router, module, event_cap, listener=None):
    """INVOKE after INVOKE until the host closes the connection: 0 at a
    clean end, 1 when the host sent ERROR. With a listener, an end before
    the connection's first frame is a reset: rejoin() and go on."""
    handle = module.handle
    first = True  # nothing read from this connection yet: the snapshot point
    while True:
        try:
            frame = conn.read_frame()
        except HostGone:
            if listener is None or not first:
                raise
            frame = None
        if frame is None and listener is not None and first:
            rejoin(conn, listener, module)
            continue
        first = False
        if frame is None:
            return 0
        if frame.type == proto.ERROR:
            return 1  # the host gave up; it closes, nothing to answer
        if frame.type != proto.INVOKE:
            raise proto.ProtocolError(
                errno.EPROTO, "%s frame between invocations" % proto.type_name(frame.type)
            )
        invocation = Invocation(frame.payload)
        data = read_event(conn, event_cap)
        run_invocation(conn, router, handle, invocation, data)


# ---- start-up ------------------------------------------------------------------------------


def _env_count(name, default=0):
    """A non-negative integer below 2^53 from the environment."""
    text = os.environ.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or int(text) >= proto.INT_LIMIT:
        raise ValueError("%s=%r is not a count" % (name, text))
    return int(text)


def _connection_fd():
    fd = _env_count("HEARTH_FD", -1)
    if fd < 0:
        raise ValueError("HEARTH_FD is not set")
    os.environ.pop("HEARTH_FD")  # the handler has no business with it
    try:
        os.set_inheritable(fd, False)
    except OSError:
        pass  # a kernel without FIOCLEX/F_SETFD: nothing can exec here anyway
    return fd


def _listener():
    """The vsock listener hearth-init passed (HEARTH_LISTEN_FD), or None."""
    fd = _env_count("HEARTH_LISTEN_FD", -1)
    if fd < 0:
        return None
    os.environ.pop("HEARTH_LISTEN_FD")
    import socket  # only here: a shim without snapshots never pays for it

    try:
        os.set_inheritable(fd, False)
    except OSError:
        pass  # as for HEARTH_FD
    # Family, type and protocol given: nothing to ask the kernel.
    return socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM, 0, fileno=fd)


def main():
    try:
        conn = Connection(_connection_fd())
        listener = _listener()
    except ValueError as e:
        print("hearth_shim: %s" % e, file=sys.stderr)
        return 1
    try:
        files = _env_count("HEARTH_CODE_FILES")
        size = _env_count("HEARTH_CODE_BYTES")
        event_cap = _env_count("HEARTH_EVENT_CAP", EVENT_CAP_DEFAULT)
    except ValueError as e:
        conn.send_error("bad_environment", str(e))
        return 1
    try:
        router = install_log_streams()
        module = load_handler(os.environ.get("HEARTH_HANDLER", "/code/handler.py"))
        conn.send_control(proto.LOADED, {"files": files, "bytes": size, "runtime": "python"})
        return serve(conn, router, module, event_cap, listener)
    except LoadError as e:
        conn.send_error(e.code, str(e))
    except BadInvoke as e:
        conn.send_error("bad_invoke", str(e))
    except EventTooLarge as e:
        conn.send_error("event_too_large", str(e))
    except proto.ProtocolError as e:
        conn.send_error("protocol", str(e))
    except HostGone:
        pass
    return 1


if __name__ == "__main__":
    sys.exit(main())

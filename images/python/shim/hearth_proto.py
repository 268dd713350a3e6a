"""hearth_proto - hearth's host <-> guest frame codec in Python, for the shim.

The wire format is guest-init/proto/PROTOCOL.md (version 1); this module is
the Python twin of frame.c, frame_io.c and json.c and is tested against the
same golden frames (guest-init/proto/golden/). It is pure standard library
and touches a descriptor only through read/write/writev, so it runs the same
under hearth-vmm's guest kernel and on a Linux host.

Every check a reader must make is made before a payload byte is read: magic,
version, a known type, a stream that fits the type and a length within the
type's limit. Control payloads are checked as json.c checks them, first
whole (decode_control) then member by member (control_string, control_int,
control_bool, control_env), and encoded byte for byte as json.c writes them
(encode_control).
"""

import errno
import json
import os
import re
import struct
from collections import namedtuple

MAGIC = 0x68
VERSION = 1
HEADER_SIZE = 8
CONTROL_MAX = 64 << 10  # JSON payload of a control frame
DATA_MAX = 256 << 10  # payload of one DATA frame
INIT_PORT = 52

RESPONSE_CAP_DEFAULT = 6 << 20
LOG_CAP_DEFAULT = 1 << 20

STRING_MAX = 4096  # bytes of a JSON string after unescaping
MEMBERS_MAX = 256  # members of one JSON object
INT_LIMIT = 1 << 53  # JSON integers are below this
DEPTH_MAX = 4  # nesting of control JSON, the top object counting 1

HELLO, LOAD, LOADED, INVOKE, DATA, END, RESULT, ERROR = range(1, 9)
STREAM_NONE, STREAM_CODE, STREAM_EVENT, STREAM_RESPONSE, STREAM_LOG = range(5)

_SURROGATE = re.compile("[\ud800-\udfff]")
_TYPE_NAMES = ("?", "hello", "load", "loaded", "invoke", "data", "end", "result", "error")
_STREAM_TYPES = (DATA, END)
_HEADER = struct.Struct("<BBBBI")

Header = namedtuple("Header", "type stream length")
Frame = namedtuple("Frame", "type stream payload")


class ProtocolError(Exception):
    """A frame, a control payload or a stream that breaks PROTOCOL.md.

    `errno` is what the C codec answers for the same bytes. Headers: EPROTO
    (bad magic, type or stream), EPROTONOSUPPORT (other version), EMSGSIZE
    (length over the limit), EPIPE (stream cut short), EINVAL (a frame a
    writer refuses to send). Control JSON: EINVAL (malformed, too deep, a
    duplicate key, a member of the wrong type), E2BIG (too many members),
    ENOENT (a required member missing), ERANGE (an integer not below 2^53),
    ENAMETOOLONG (a string over its limit), EILSEQ (a string holding U+0000)."""

    def __init__(self, err, message):
        super().__init__(message)
        self.errno = err


def payload_max(frame_type):
    """The payload limit of a frame type (0 for END and unknown types)."""
    if frame_type == DATA:
        return DATA_MAX
    if HELLO <= frame_type <= ERROR and frame_type != END:
        return CONTROL_MAX
    return 0


def type_name(frame_type):
    """A short lower-case name for a type ("hello", "data"...), "?" if unknown."""
    return _TYPE_NAMES[frame_type] if 0 <= frame_type < len(_TYPE_NAMES) else "?"


def _check_header(frame_type, stream, length):
    """The checks after magic and version, shared by encoder and decoder."""
    if not HELLO <= frame_type <= ERROR:
        raise ProtocolError(errno.EPROTO, "unknown frame type %d" % frame_type)
    if frame_type in _STREAM_TYPES:
        if not STREAM_CODE <= stream <= STREAM_LOG:
            raise ProtocolError(
                errno.EPROTO, "%s frame on stream %d" % (type_name(frame_type), stream)
            )
    elif stream != STREAM_NONE:
        raise ProtocolError(errno.EPROTO, "%s frame on stream %d" % (type_name(frame_type), stream))
    if length > payload_max(frame_type):
        raise ProtocolError(
            errno.EMSGSIZE,
            "%s frame of %d bytes (limit %d)"
            % (type_name(frame_type), length, payload_max(frame_type)),
        )


def encode_header(frame_type, stream, length):
    """The 8 header bytes; ProtocolError(EINVAL) for a frame a reader refuses."""
    if not (0 <= frame_type <= 0xFF and 0 <= stream <= 0xFF and 0 <= length <= 0xFFFFFFFF):
        raise ProtocolError(errno.EINVAL, "header field out of range")
    try:
        _check_header(frame_type, stream, length)
    except ProtocolError as e:
        raise ProtocolError(errno.EINVAL, str(e)) from None
    return _HEADER.pack(MAGIC, VERSION, frame_type, stream, length)


def decode_header(data):
    """Parses and checks 8 header bytes; returns a Header or raises ProtocolError."""
    if len(data) != HEADER_SIZE:
        raise ProtocolError(errno.EINVAL, "a header is %d bytes, not %d" % (HEADER_SIZE, len(data)))
    magic, version, frame_type, stream, length = _HEADER.unpack(data)
    if magic != MAGIC:
        raise ProtocolError(errno.EPROTO, "bad magic 0x%02x" % magic)
    if version != VERSION:
        raise ProtocolError(
            errno.EPROTONOSUPPORT, "protocol version %d (speaking %d)" % (version, VERSION)
        )
    _check_header(frame_type, stream, length)
    return Header(frame_type, stream, length)


def encode_frame(frame_type, stream, payload=b""):
    """A whole frame as bytes (header then payload)."""
    return b"".join(frame_parts(frame_type, stream, payload))


def decode_frame(data):
    """Decodes exactly one whole frame held in `data` (the golden files)."""
    if len(data) < HEADER_SIZE:
        raise ProtocolError(errno.EPIPE, "frame cut short in its header")
    header = decode_header(bytes(data[:HEADER_SIZE]))
    rest = len(data) - HEADER_SIZE
    if rest < header.length:
        raise ProtocolError(errno.EPIPE, "frame cut short in its payload")
    if rest > header.length:
        raise ProtocolError(errno.EPROTO, "%d bytes after the frame" % (rest - header.length))
    return Frame(header.type, header.stream, bytes(data[HEADER_SIZE:]))


# ---- control JSON -------------------------------------------------------------------------
# decode_control() checks what json.c's json_parse checks (RFC 8259 JSON, one
# object on top, strict UTF-8, no lone surrogates, nesting at most DEPTH_MAX,
# at most MEMBERS_MAX members per object, no duplicate keys); the control_*
# getters then check a member's type and limits as json.c's getters do, with
# the same errno values.


class _TooManyMembers(ValueError):
    pass


def _reject_constant(name):
    raise ValueError("%s is not JSON" % name)


def _object_pairs(pairs):
    """Builds an object, refusing duplicate members and too many of them."""
    if len(pairs) > MEMBERS_MAX:
        raise _TooManyMembers("object of %d members (limit %d)" % (len(pairs), MEMBERS_MAX))
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate member")
    return obj


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_pairs, parse_constant=_reject_constant, strict=True
)


def _check_tree(value, depth):
    """Nesting depth (the top object is 1) and lone surrogates, recursively."""
    if isinstance(value, str):
        _check_unicode(value)
        return
    if not isinstance(value, (dict, list)):
        return
    if depth > DEPTH_MAX:
        raise ValueError("nested deeper than %d" % DEPTH_MAX)
    members = value.items() if isinstance(value, dict) else enumerate(value)
    for key, member in members:
        if isinstance(key, str):
            _check_unicode(key)
        _check_tree(member, depth + 1)


def _check_unicode(text):
    if _SURROGATE.search(text):
        raise ValueError("string with a lone surrogate")


def decode_control(payload):
    """A control payload as a dict, or ProtocolError: EMSGSIZE (over
    CONTROL_MAX), E2BIG (an object of too many members), EINVAL (anything
    else that is not one strict JSON object)."""
    if len(payload) > CONTROL_MAX:
        raise ProtocolError(errno.EMSGSIZE, "control payload of %d bytes" % len(payload))
    try:
        text = bytes(payload).decode("utf-8")
        if not text.lstrip(" \t\n\r").startswith("{"):
            raise ValueError("not a JSON object")
        obj = _DECODER.decode(text)
        _check_tree(obj, 1)
    except _TooManyMembers as e:
        raise ProtocolError(errno.E2BIG, "bad control JSON: %s" % e) from None
    except (ValueError, RecursionError) as e:
        raise ProtocolError(errno.EINVAL, "bad control JSON: %s" % e) from None
    return obj


REQUIRED = object()  # a control_* default: the member must be present


def _member(obj, key, default):
    if key in obj:
        return obj[key]
    if default is REQUIRED:
        raise ProtocolError(errno.ENOENT, "member %r missing" % key)
    return default


def _wrong_type(key, what):
    return ProtocolError(errno.EINVAL, "member %r is not %s" % (key, what))


def _checked_string(key, value, limit):
    if not isinstance(value, str):
        raise _wrong_type(key, "a string")
    size = len(value.encode("utf-8"))
    if size > limit:
        raise ProtocolError(
            errno.ENAMETOOLONG, "member %r of %d bytes (limit %d)" % (key, size, limit)
        )
    if "\0" in value:
        raise ProtocolError(errno.EILSEQ, "member %r holds U+0000" % key)
    return value


def control_string(obj, key, default=REQUIRED, limit=STRING_MAX):
    """A string member (at most `limit` UTF-8 bytes, no U+0000)."""
    value = _member(obj, key, default)
    return value if value is default else _checked_string(key, value, limit)


def control_int(obj, key, default=REQUIRED):
    """A non-negative integer member below 2^53, without fraction or exponent."""
    value = _member(obj, key, default)
    if value is default:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _wrong_type(key, "a non-negative integer")
    if value >= INT_LIMIT:
        raise ProtocolError(errno.ERANGE, "member %r is not below 2^53" % key)
    return value


def control_bool(obj, key, default=REQUIRED):
    value = _member(obj, key, default)
    if value is not default and not isinstance(value, bool):
        raise _wrong_type(key, "true or false")
    return value


def control_env(obj, key, default=REQUIRED):
    """An object member whose values are all strings (INVOKE's env)."""
    value = _member(obj, key, default)
    if value is default:
        return value
    if not isinstance(value, dict):
        raise _wrong_type(key, "an object")
    for name, text in value.items():
        _checked_string(key, name, STRING_MAX)
        _checked_string("%s.%s" % (key, name), text, STRING_MAX)
    return value


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f]')


def _escape_char(match):
    char = match.group(0)
    return _ESCAPES.get(char) or "\\u%04x" % ord(char)


def utf8_safe(text):
    """text with each lone surrogate replaced by U+FFFD. A str holds one for
    each byte that was not UTF-8 (os.fsdecode, surrogateescape), and json.c
    writes each such byte as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def _encode_string(text):
    """A JSON string as json.c writes it: quote, backslash and control
    characters escaped, everything else (UTF-8 included) as is."""
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, utf8_safe(text)) + '"'


def _encode_value(value, out):
    if value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        if not 0 <= value < INT_LIMIT:
            raise ProtocolError(errno.EINVAL, "integer %d outside 0..2^53-1" % value)
        out.append(str(int(value)))
    elif isinstance(value, str):
        out.append(_encode_string(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, member) in enumerate(value.items()):
            out.append("," if i else "")
            out.append(_encode_string(key))
            out.append(":")
            _encode_value(member, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, element in enumerate(value):
            out.append("," if i else "")
            _encode_value(element, out)
        out.append("]")
    else:
        raise ProtocolError(errno.EINVAL, "cannot encode %s in control JSON" % type(value).__name__)


def encode_control(obj):
    """A control payload (compact JSON, members in the dict's order) as
    bytes, identical to what the C writer produces for the same members."""
    out = []
    _encode_value(obj, out)
    payload = "".join(out).encode("utf-8")
    if len(payload) > CONTROL_MAX:
        raise ProtocolError(errno.EMSGSIZE, "control payload of %d bytes" % len(payload))
    return payload


def clip_utf8(text, limit=STRING_MAX):
    """`text` shortened, at a character boundary, to at most `limit` UTF-8
    bytes (a protocol string's limit)."""
    data = utf8_safe(text).encode("utf-8")
    if len(data) <= limit:
        return data.decode("utf-8")
    return data[:limit].decode("utf-8", "ignore")


# ---- blocking I/O on a descriptor, socket or file object ------------------------------------

READ_AHEAD = 64 << 10  # what FrameReader asks for at least, per read
IOV_BATCH = 16  # buffers per writev: 8 frames, at most 2 MiB a call


def _read_some(src, size):
    if isinstance(src, int):
        return os.read(src, size)
    if hasattr(src, "recv"):
        return src.recv(size)
    data = src.read(size)
    if data is None:
        raise ProtocolError(errno.EAGAIN, "non-blocking source has no data")
    return data


def read_exact(src, size):
    """Exactly `size` bytes from `src` (an fd, a socket or a binary file
    object), or ProtocolError(EPIPE) when the stream ends first."""
    chunks = []
    have = 0
    while have < size:
        chunk = _read_some(src, min(size - have, DATA_MAX))
        if not chunk:
            raise ProtocolError(errno.EPIPE, "stream cut short (%d of %d bytes)" % (have, size))
        chunks.append(chunk)
        have += len(chunk)
    return b"".join(chunks)


def read_header(src):
    """The next checked Header, or None at a clean end of stream (no byte)."""
    first = _read_some(src, HEADER_SIZE)
    if not first:
        return None
    if len(first) < HEADER_SIZE:
        first += read_exact(src, HEADER_SIZE - len(first))
    return decode_header(first)


def read_frame(src):
    """The next whole Frame (payload <= its type's limit, checked before it
    is read), or None at a clean end of stream between frames. Reads no
    byte past the frame."""
    header = read_header(src)
    if header is None:
        return None
    payload = read_exact(src, header.length) if header.length else b""
    return Frame(header.type, header.stream, payload)


class FrameReader:
    """Frames from `src` through a read-ahead buffer, so frames that arrive
    together (INVOKE, DATA, END) cost one read, not two each. For a reader
    that owns `src`: bytes past the current frame stay in the buffer. The
    header is checked as soon as its 8 bytes are in, before any wait for
    the payload."""

    def __init__(self, src):
        self.src = src
        self.buf = bytearray()

    def _fill(self, need):
        """Reads until the buffer holds `need` bytes; False at end of stream."""
        while len(self.buf) < need:
            chunk = _read_some(self.src, max(need - len(self.buf), READ_AHEAD))
            if not chunk:
                return False
            self.buf += chunk
        return True

    def read_frame(self):
        """As read_frame(src)."""
        if not self._fill(HEADER_SIZE):
            if self.buf:
                raise ProtocolError(errno.EPIPE, "stream cut short in a header")
            return None
        header = decode_header(bytes(self.buf[:HEADER_SIZE]))
        end = HEADER_SIZE + header.length
        if not self._fill(end):
            raise ProtocolError(
                errno.EPIPE, "stream cut short in a %s payload" % type_name(header.type)
            )
        payload = bytes(self.buf[HEADER_SIZE:end])
        del self.buf[:end]
        return Frame(header.type, header.stream, payload)


def _bytes_view(data):
    return memoryview(data).cast("B")


def _write_all(dst, parts):
    """Writes every byte of the buffers in `parts`, retrying short writes;
    on a descriptor, IOV_BATCH buffers per writev."""
    views = [v for v in map(_bytes_view, parts) if len(v)]
    if not isinstance(dst, int):
        for view in views:
            if hasattr(dst, "sendall"):
                dst.sendall(view)
                continue
            while view:
                view = view[dst.write(view) or 0 :]
        if hasattr(dst, "flush"):
            dst.flush()
        return
    first = 0
    while first < len(views):
        done = os.writev(dst, views[first : first + IOV_BATCH])
        if done == 0:
            raise BrokenPipeError(errno.EPIPE, "peer gone")
        while first < len(views) and done >= len(views[first]):
            done -= len(views[first])
            first += 1
        if done:
            views[first] = views[first][done:]


def frame_parts(frame_type, stream, payload=b""):
    """A frame as the buffers to write: its header, then its payload if any."""
    view = _bytes_view(payload)
    header = encode_header(frame_type, stream, len(view))
    return [header, view] if len(view) else [header]


def data_frames(stream, data):
    """`data` as (DATA, stream, piece) frames of at most DATA_MAX bytes
    (none for empty data)."""
    view = _bytes_view(data)
    return [(DATA, stream, view[i : i + DATA_MAX]) for i in range(0, len(view), DATA_MAX)]


def write_frames(dst, frames):
    """Writes (type, stream, payload) frames in order, with as few writes
    as the batch allows."""
    parts = []
    for frame_type, stream, payload in frames:
        parts += frame_parts(frame_type, stream, payload)
    _write_all(dst, parts)


def write_frame(dst, frame_type, stream, payload=b""):
    """Writes one whole frame to `dst` (an fd, a socket or a file object)."""
    _write_all(dst, frame_parts(frame_type, stream, payload))


def write_data(dst, stream, data):
    """Writes `data` as DATA frames of `stream` (nothing for empty data)."""
    write_frames(dst, data_frames(stream, data))


def write_end(dst, stream):
    write_frame(dst, END, stream)


def write_control(dst, frame_type, obj):
    write_frame(dst, frame_type, STREAM_NONE, encode_control(obj))


def send_error(dst, code, message):
    """Sends ERROR {"code","message"} (message clipped to a protocol
    string); best effort, as the sender closes right after."""
    try:
        write_control(dst, ERROR, {"code": clip_utf8(code), "message": clip_utf8(message)})
    except (OSError, ProtocolError):
        pass

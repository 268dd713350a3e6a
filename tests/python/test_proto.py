"""test_proto - hearth_proto.py, the Python frame codec: headers, whole
frames, exact reads from descriptors, sockets and files, and control JSON
(encoding byte for byte as json.c does, decoding with json.c's checks). The
golden frames shared with the C codec are test_golden.py's."""

import errno
import io
import json
import os
import random
import socket
import tempfile
import unittest

from shim_host import proto

STREAM_TYPES = (proto.DATA, proto.END)
CONTROL_TYPES = (proto.HELLO, proto.LOAD, proto.LOADED, proto.INVOKE, proto.RESULT, proto.ERROR)


def header(magic=0x68, version=1, frame_type=proto.HELLO, stream=0, length=0):
    return bytes([magic, version, frame_type, stream]) + length.to_bytes(4, "little")


class Trickle(io.RawIOBase):
    """A file that hands out at most one byte per read: exact reads must loop."""

    def __init__(self, data):
        super().__init__()
        self.data = data
        self.pos = 0

    def readable(self):
        return True

    def read(self, size=-1):
        chunk = self.data[self.pos : self.pos + min(size, 1)]
        self.pos += len(chunk)
        return chunk


class HeaderTest(unittest.TestCase):
    def assert_refused(self, data, err):
        with self.assertRaises(proto.ProtocolError) as caught:
            proto.decode_header(data)
        self.assertEqual(caught.exception.errno, err, str(caught.exception))

    def test_layout_is_little_endian(self):
        self.assertEqual(
            proto.encode_header(proto.DATA, proto.STREAM_LOG, 0x030201),
            bytes([0x68, 1, 5, 4, 1, 2, 3, 0]),
        )

    def test_every_valid_header_round_trips(self):
        for frame_type in CONTROL_TYPES:
            for length in (0, 1, proto.CONTROL_MAX):
                data = proto.encode_header(frame_type, 0, length)
                self.assertEqual(proto.decode_header(data), (frame_type, 0, length))
        for stream in range(1, 5):
            for length in (0, proto.DATA_MAX):
                data = proto.encode_header(proto.DATA, stream, length)
                self.assertEqual(proto.decode_header(data), (proto.DATA, stream, length))
            self.assertEqual(
                proto.decode_header(proto.encode_header(proto.END, stream, 0)),
                (proto.END, stream, 0),
            )

    def test_bad_magic_and_version(self):
        self.assert_refused(header(magic=0x69), errno.EPROTO)
        self.assert_refused(header(magic=0), errno.EPROTO)
        self.assert_refused(header(version=0), errno.EPROTONOSUPPORT)
        self.assert_refused(header(version=2), errno.EPROTONOSUPPORT)

    def test_unknown_types(self):
        for frame_type in (0, 9, 0x7F, 0xFF):
            self.assert_refused(header(frame_type=frame_type), errno.EPROTO)

    def test_stream_must_fit_the_type(self):
        for frame_type in CONTROL_TYPES:
            for stream in (1, 4, 5, 0xFF):
                self.assert_refused(header(frame_type=frame_type, stream=stream), errno.EPROTO)
        for frame_type in STREAM_TYPES:
            for stream in (0, 5, 0xFF):
                self.assert_refused(header(frame_type=frame_type, stream=stream), errno.EPROTO)

    def test_length_limits(self):
        for frame_type in CONTROL_TYPES:
            self.assert_refused(
                header(frame_type=frame_type, length=proto.CONTROL_MAX + 1), errno.EMSGSIZE
            )
        self.assert_refused(
            header(frame_type=proto.DATA, stream=2, length=proto.DATA_MAX + 1), errno.EMSGSIZE
        )
        self.assert_refused(
            header(frame_type=proto.DATA, stream=2, length=0xFFFFFFFF), errno.EMSGSIZE
        )
        self.assert_refused(header(frame_type=proto.END, stream=2, length=1), errno.EMSGSIZE)

    def test_header_must_be_8_bytes(self):
        self.assert_refused(header()[:7], errno.EINVAL)
        self.assert_refused(header() + b"\0", errno.EINVAL)

    def test_writer_refuses_what_a_reader_refuses(self):
        for args in (
            (0, 0, 0),
            (9, 0, 0),
            (proto.HELLO, 1, 0),
            (proto.DATA, 0, 0),
            (proto.DATA, 5, 0),
            (proto.END, 3, 1),
            (proto.INVOKE, 0, proto.CONTROL_MAX + 1),
            (proto.DATA, 1, proto.DATA_MAX + 1),
            (proto.DATA, 1, -1),
            (proto.DATA, 1, 1 << 32),
        ):
            with self.assertRaises(proto.ProtocolError) as caught:
                proto.encode_header(*args)
            self.assertEqual(caught.exception.errno, errno.EINVAL, args)

    def test_type_names_and_limits(self):
        self.assertEqual(proto.type_name(proto.INVOKE), "invoke")
        self.assertEqual(proto.type_name(proto.END), "end")
        self.assertEqual(proto.type_name(0), "?")
        self.assertEqual(proto.type_name(9), "?")
        self.assertEqual(proto.payload_max(proto.DATA), 256 << 10)
        self.assertEqual(proto.payload_max(proto.RESULT), 64 << 10)
        self.assertEqual(proto.payload_max(proto.END), 0)
        self.assertEqual(proto.payload_max(42), 0)


class ReadWriteTest(unittest.TestCase):
    def test_frames_round_trip_through_a_socketpair(self):
        a, b = socket.socketpair()
        with a, b:
            proto.write_control(a, proto.LOADED, {"files": 1, "bytes": 2, "runtime": "python"})
            proto.write_frame(a.fileno(), proto.DATA, proto.STREAM_LOG, b"via fd")
            proto.write_end(a, proto.STREAM_LOG)
            frame = proto.read_frame(b)
            self.assertEqual((frame.type, frame.stream), (proto.LOADED, 0))
            self.assertEqual(
                proto.decode_control(frame.payload), {"files": 1, "bytes": 2, "runtime": "python"}
            )
            self.assertEqual(
                proto.read_frame(b.fileno()), (proto.DATA, proto.STREAM_LOG, b"via fd")
            )
            self.assertEqual(proto.read_frame(b), (proto.END, proto.STREAM_LOG, b""))
            a.shutdown(socket.SHUT_WR)
            self.assertIsNone(proto.read_frame(b), "a clean end between frames")

    def test_write_data_splits_at_the_data_limit(self):
        payload = os.urandom(2 * proto.DATA_MAX + 5)
        out = io.BytesIO()
        proto.write_data(out, proto.STREAM_RESPONSE, payload)
        proto.write_data(out, proto.STREAM_RESPONSE, b"")  # nothing at all
        src = io.BytesIO(out.getvalue())
        sizes = []
        joined = b""
        while True:
            frame = proto.read_frame(src)
            if frame is None:
                break
            sizes.append(len(frame.payload))
            joined += frame.payload
        self.assertEqual(sizes, [proto.DATA_MAX, proto.DATA_MAX, 5])
        self.assertEqual(joined, payload)

    def test_reads_are_exact_with_one_byte_reads(self):
        data = proto.encode_frame(
            proto.DATA, proto.STREAM_EVENT, b"abcdefghij"
        ) + proto.encode_frame(proto.END, proto.STREAM_EVENT)
        src = Trickle(data)
        self.assertEqual(proto.read_frame(src), (proto.DATA, proto.STREAM_EVENT, b"abcdefghij"))
        self.assertEqual(proto.read_frame(src), (proto.END, proto.STREAM_EVENT, b""))
        self.assertIsNone(proto.read_frame(src))

    def test_frame_reader_reads_ahead_and_keeps_the_rest(self):
        frames = [
            (proto.INVOKE, 0, b'{"request_id":"r","content_type":"t"}'),
            (proto.DATA, proto.STREAM_EVENT, os.urandom(proto.DATA_MAX)),
            (proto.DATA, proto.STREAM_EVENT, b""),
            (proto.END, proto.STREAM_EVENT, b""),
        ]
        data = b"".join(proto.encode_frame(*frame) for frame in frames)
        for src in (io.BytesIO(data), Trickle(data)):
            reader = proto.FrameReader(src)
            self.assertEqual([reader.read_frame() for _ in frames], frames)
            self.assertIsNone(reader.read_frame())

    def test_frame_reader_refuses_bad_and_cut_frames(self):
        whole = proto.encode_frame(proto.DATA, proto.STREAM_EVENT, b"0123456789")
        for data, err in (
            (whole[:5], errno.EPIPE),
            (whole[:12], errno.EPIPE),
            (header(frame_type=proto.DATA, stream=1, length=proto.DATA_MAX + 1), errno.EMSGSIZE),
            (header(magic=0), errno.EPROTO),
        ):
            with self.assertRaises(proto.ProtocolError) as caught:
                proto.FrameReader(io.BytesIO(data)).read_frame()
            self.assertEqual(caught.exception.errno, err, data)

    def test_many_frames_through_a_descriptor_in_batches(self):
        payload = os.urandom(10 * proto.DATA_MAX + 3)  # more buffers than one writev takes
        with tempfile.TemporaryFile() as f:
            proto.write_frames(
                f.fileno(),
                proto.data_frames(proto.STREAM_RESPONSE, payload)
                + [(proto.END, proto.STREAM_RESPONSE, b"")],
            )
            f.seek(0)
            reader = proto.FrameReader(f.fileno())
            joined = b""
            while True:
                frame = reader.read_frame()
                if frame.type == proto.END:
                    break
                joined += frame.payload
            self.assertEqual(joined, payload)
            self.assertIsNone(reader.read_frame())

    def test_payloads_of_any_buffer_format(self):
        words = memoryview(bytearray(b"\x01\x00\x00\x00\x02\x00\x00\x00")).cast("I")
        out = io.BytesIO()
        proto.write_frame(out, proto.DATA, proto.STREAM_LOG, words)
        self.assertEqual(proto.decode_frame(out.getvalue()).payload, words.tobytes())

    def test_truncated_header_and_payload(self):
        whole = proto.encode_frame(proto.DATA, proto.STREAM_EVENT, b"0123456789")
        for cut in (1, 7, 8, 9, len(whole) - 1):
            with self.assertRaises(proto.ProtocolError) as caught:
                proto.read_frame(io.BytesIO(whole[:cut]))
            self.assertEqual(caught.exception.errno, errno.EPIPE, cut)

    def test_oversized_frame_refused_before_its_payload(self):
        # Only the header is there: reading the payload would be EPIPE.
        for data in (
            header(frame_type=proto.DATA, stream=1, length=proto.DATA_MAX + 1),
            header(frame_type=proto.INVOKE, length=proto.CONTROL_MAX + 1),
        ):
            with self.assertRaises(proto.ProtocolError) as caught:
                proto.read_frame(io.BytesIO(data))
            self.assertEqual(caught.exception.errno, errno.EMSGSIZE)

    def test_garbage_is_refused(self):
        rng = random.Random(5)
        for _ in range(2000):
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
            try:
                frame = proto.read_frame(io.BytesIO(data))
            except proto.ProtocolError as e:
                self.assertIn(
                    e.errno, (errno.EPROTO, errno.EPROTONOSUPPORT, errno.EMSGSIZE, errno.EPIPE)
                )
                continue
            # Accepted only when it really is a valid frame.
            self.assertEqual(data[:2], b"\x68\x01")
            self.assertEqual(proto.encode_frame(*frame), data[: 8 + len(frame.payload)])

    def test_decode_frame_of_a_whole_buffer(self):
        data = proto.encode_frame(proto.ERROR, 0, b'{"code":"x","message":"y"}')
        self.assertEqual(proto.decode_frame(data).payload, b'{"code":"x","message":"y"}')
        for bad, err in (
            (data[:-1], errno.EPIPE),
            (data + b"!", errno.EPROTO),
            (data[:5], errno.EPIPE),
        ):
            with self.assertRaises(proto.ProtocolError) as caught:
                proto.decode_frame(bad)
            self.assertEqual(caught.exception.errno, err)

    def test_send_error_clips_long_messages(self):
        out = io.BytesIO()
        proto.send_error(out, "load_failed", "\u00e9" * 5000)
        frame = proto.decode_frame(out.getvalue())
        error = proto.decode_control(frame.payload)
        self.assertEqual(error["code"], "load_failed")
        self.assertEqual(error["message"], "\u00e9" * 2048)  # 4096 bytes, no split character


class ControlEncodeTest(unittest.TestCase):
    def test_compact_and_in_order(self):
        payload = proto.encode_control(
            {
                "status": "ok",
                "exit_status": 0,
                "response_truncated": False,
                "env": {"A": "1"},
                "n": None,
            }
        )
        self.assertEqual(
            payload,
            b'{"status":"ok","exit_status":0,"response_truncated":false,"env":{"A":"1"},"n":null}',
        )

    def test_escapes_as_json_c(self):
        text = 'q" b\\ \b\f\n\r\t \x00\x01\x1f \x7f / \u00e9 \u2603 \U0001f600'
        expected = (
            b'"q\\" b\\\\ \\b\\f\\n\\r\\t \\u0000\\u0001\\u001f \x7f / '
            + "\u00e9 \u2603 \U0001f600".encode()
            + b'"'
        )
        self.assertEqual(proto.encode_control({"k": text}), b'{"k":' + expected + b"}")

    def test_bytes_that_are_not_utf8_become_replacement_characters(self):
        # json.c writes each invalid byte as U+FFFD; a str carries such bytes
        # as lone surrogates (surrogateescape).
        text = b"a\xff\xfeb".decode("utf-8", "surrogateescape")
        self.assertEqual(proto.encode_control({"m": text}), b'{"m":"a\xef\xbf\xbd\xef\xbf\xbdb"}')
        self.assertEqual(proto.clip_utf8(text, 4), "a\ufffd")

    def test_matches_pythons_json_for_valid_text(self):
        # json.h promises json.dumps(ensure_ascii=False, compact) output.
        rng = random.Random(7)
        alphabet = [chr(c) for c in range(0, 0x80)] + ["\u00e9", "\u2028", "\ufeff", "\U0001f600"]
        for _ in range(500):
            obj = {
                "".join(rng.choice(alphabet) for _ in range(rng.randrange(4))): "".join(
                    rng.choice(alphabet) for _ in range(rng.randrange(30))
                ),
                "n": rng.randrange(1 << 53),
            }
            expected = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
            self.assertEqual(proto.encode_control(obj), expected)

    def test_refuses_what_control_json_cannot_hold(self):
        for value in (-1, 1 << 53, 1.5, b"bytes", object()):
            with self.assertRaises(proto.ProtocolError) as caught:
                proto.encode_control({"v": value})
            self.assertEqual(caught.exception.errno, errno.EINVAL, value)
        with self.assertRaises(proto.ProtocolError) as caught:
            proto.encode_control({"v": "x" * proto.CONTROL_MAX})
        self.assertEqual(caught.exception.errno, errno.EMSGSIZE)

    def test_clip_utf8(self):
        self.assertEqual(proto.clip_utf8("abc", 2), "ab")
        self.assertEqual(proto.clip_utf8("a\u00e9", 2), "a")
        self.assertEqual(proto.clip_utf8("\U0001f600" * 2, 7), "\U0001f600")
        self.assertEqual(proto.clip_utf8("short"), "short")


class ControlDecodeTest(unittest.TestCase):
    def assert_refused(self, payload, err):
        with self.assertRaises(proto.ProtocolError) as caught:
            proto.decode_control(payload)
        self.assertEqual(caught.exception.errno, err, "%r: %s" % (payload[:60], caught.exception))

    def test_accepts_json_c_accepts(self):
        self.assertEqual(
            proto.decode_control(b' \t\r\n{"a" : [1, -2.5e3, true, null, {}]} \n'),
            {"a": [1, -2500.0, True, None, {}]},
        )
        self.assertEqual(
            proto.decode_control(b'{"\\u00e9\\ud83d\\ude00":"\\/"}'), {"\u00e9\U0001f600": "/"}
        )
        self.assertEqual(proto.decode_control(b'{"a":[[[1]]]}'), {"a": [[[1]]]})  # 4 deep

    def test_refuses_what_json_c_refuses(self):
        for payload in (
            b"",
            b"[]",
            b'"x"',
            b"{",
            b'{"a":1}x',
            b'{"a":1,}',
            b"{'a':1}",
            b'{"a":NaN}',
            b'{"a":Infinity}',
            b'{"a":01}',
            b'{"a":1.}',
            b'{"a":"\x01"}',
            b'{"a":"\\x"}',
            b'{"a":"\\ud800"}',
            b'{"a":"\\udc00\\ud800"}',
            b'{"a":"\xc3"}',
            b'{"a":"\xc0\x80"}',
            b'{"a":"\xed\xa0\x80"}',
            b'{"a":"\xf4\x90\x80\x80"}',
            b"\xef\xbb\xbf{}",
            b'{"a":1,"a":2}',
            b'{"\\u0061":1,"a":2}',
            b'{"a":[[[[1]]]]}',
            b'{"a":{"b":{"c":{"d":{}}}}}',
            b'{"a":' + b"[" * 60000,
        ):
            self.assert_refused(payload, errno.EINVAL)

    def test_member_limit(self):
        members = lambda n: (
            "{" + ",".join('"k%d":1' % i for i in range(n)) + "}"
        ).encode()  # noqa: E731
        self.assertEqual(len(proto.decode_control(members(256))), 256)
        self.assert_refused(members(257), errno.E2BIG)
        self.assert_refused(b'{"env":' + members(257) + b"}", errno.E2BIG)

    def test_size_limit(self):
        self.assert_refused(b'{"a":"' + b"x" * proto.CONTROL_MAX + b'"}', errno.EMSGSIZE)

    def test_getters(self):
        msg = proto.decode_control(
            b'{"s":"x","n":9007199254740991,"big":9007199254740992,"neg":-1,"f":1.0,"e":1e2,'
            b'"t":true,"env":{"A":"1","B":"\\u00e9"},"nul":"a\\u0000","long":"'
            + b"y" * 4097
            + b'"}'
        )
        self.assertEqual(proto.control_string(msg, "s"), "x")
        self.assertEqual(proto.control_int(msg, "n"), (1 << 53) - 1)
        self.assertTrue(proto.control_bool(msg, "t"))
        self.assertEqual(proto.control_env(msg, "env"), {"A": "1", "B": "\u00e9"})
        self.assertEqual(proto.control_int(msg, "absent", 7), 7)
        self.assertIsNone(proto.control_string(msg, "absent", None))
        for getter, key, err in (
            (proto.control_string, "absent", errno.ENOENT),
            (proto.control_string, "n", errno.EINVAL),
            (proto.control_string, "nul", errno.EILSEQ),
            (proto.control_string, "long", errno.ENAMETOOLONG),
            (proto.control_int, "big", errno.ERANGE),
            (proto.control_int, "neg", errno.EINVAL),
            (proto.control_int, "f", errno.EINVAL),
            (proto.control_int, "e", errno.EINVAL),
            (proto.control_int, "t", errno.EINVAL),
            (proto.control_bool, "n", errno.EINVAL),
            (proto.control_env, "s", errno.EINVAL),
        ):
            with self.assertRaises(proto.ProtocolError) as caught:
                getter(msg, key)
            self.assertEqual(caught.exception.errno, err, key)
        bad_env = proto.decode_control(b'{"env":{"A":1}}')
        with self.assertRaises(proto.ProtocolError):
            proto.control_env(bad_env, "env")


if __name__ == "__main__":
    unittest.main()

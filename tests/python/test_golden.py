"""test_golden - hearth_proto.py against the golden frames the C codec is
pinned to (guest-init/proto/golden/, described by its index.json): every
valid frame decodes to what the index says and re-encodes to the identical
bytes, and every bad one is refused with the C codec's errno."""

import errno
import io
import json
import os
import unittest

from shim_host import SOURCE_DIR, proto

GOLDEN_DIR = os.environ.get(
    "HEARTH_GOLDEN_DIR", os.path.join(SOURCE_DIR, "guest-init", "proto", "golden")
)

# index.json's "expect" of a frame refused at its header (or cut short).
HEADER_ERRORS = {
    "bad_magic": errno.EPROTO,
    "bad_version": errno.EPROTONOSUPPORT,
    "bad_type": errno.EPROTO,
    "bad_stream": errno.EPROTO,
    "oversized": errno.EMSGSIZE,
    "truncated": errno.EPIPE,
}


def load_index():
    with open(os.path.join(GOLDEN_DIR, "index.json"), encoding="utf-8") as f:
        return json.load(f)


class GoldenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.index = load_index()
        cls.cases = cls.index["cases"]

    def read(self, case):
        with open(os.path.join(GOLDEN_DIR, case["file"]), "rb") as f:
            return f.read()

    def assert_refused(self, call, err, case):
        with self.assertRaises(proto.ProtocolError) as caught:
            call()
        self.assertEqual(
            caught.exception.errno,
            err,
            "%s: %s, expected %s" % (case["file"], caught.exception, errno.errorcode[err]),
        )

    def test_index_describes_every_file(self):
        files = {name for name in os.listdir(GOLDEN_DIR) if name.endswith(".bin")}
        self.assertEqual(files, {case["file"] for case in self.cases})
        self.assertEqual(self.index["protocol"], proto.VERSION)
        expects = {case["expect"] for case in self.cases}
        self.assertLessEqual(expects, {"ok", "bad_json", "bad_value"} | set(HEADER_ERRORS))
        self.assertIn("ok", expects)

    def test_raw_bytes_match_the_description(self):
        for case in self.cases:
            with self.subTest(case["file"]):
                data = self.read(case)
                self.assertEqual(len(data), case["size"])
                self.assertEqual(
                    list(data[:4]), [case["magic"], case["version"], case["type"], case["stream"]]
                )
                self.assertEqual(int.from_bytes(data[4:8], "little"), case["length"])
                self.assertEqual(data[8:].hex(), case["payload_hex"])
                self.assertEqual(proto.type_name(case["type"]), case["type_name"])

    def test_valid_frames_decode_and_re_encode_identically(self):
        for case in self.cases:
            if case["expect"] != "ok":
                continue
            with self.subTest(case["file"]):
                data = self.read(case)
                frame = proto.decode_frame(data)
                self.assertEqual((frame.type, frame.stream), (case["type"], case["stream"]))
                self.assertEqual(proto.read_frame(io.BytesIO(data)), frame)
                payload = frame.payload
                if "json" in case:
                    self.assertEqual(proto.decode_control(payload), case["json"])
                    payload = proto.encode_control(case["json"])  # members in the index's order
                self.assertEqual(proto.encode_frame(case["type"], case["stream"], payload), data)

    def test_bad_headers_are_refused_before_the_payload(self):
        for case in self.cases:
            err = HEADER_ERRORS.get(case["expect"])
            if err is None:
                continue
            with self.subTest(case["file"]):
                data = self.read(case)
                self.assertEqual(errno.errorcode[err], case["c_error"])
                self.assert_refused(lambda: proto.read_frame(io.BytesIO(data)), err, case)
                self.assert_refused(lambda: proto.decode_frame(data), err, case)
                if case["expect"] != "truncated":
                    # Refused from the 8 header bytes alone.
                    self.assert_refused(lambda: proto.decode_header(data[:8]), err, case)

    def test_bad_json_is_refused_with_the_c_errno(self):
        for case in self.cases:
            if case["expect"] != "bad_json":
                continue
            with self.subTest(case["file"]):
                frame = proto.decode_frame(self.read(case))
                err = getattr(errno, case["c_error"])
                self.assert_refused(lambda: proto.decode_control(frame.payload), err, case)

    def test_bad_values_are_refused_by_the_member_getter(self):
        for case in self.cases:
            if case["expect"] != "bad_value":
                continue
            with self.subTest(case["file"]):
                msg = proto.decode_control(proto.decode_frame(self.read(case)).payload)
                member = case["member"]
                getter = proto.control_string if isinstance(msg[member], str) else proto.control_int
                err = getattr(errno, case["c_error"])
                self.assert_refused(lambda: getter(msg, member), err, case)


if __name__ == "__main__":
    unittest.main()

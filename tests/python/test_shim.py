"""test_shim - hearth_shim.py end to end on the host: the shim runs as a
subprocess exactly as hearth-init execs it, over a socketpair, and every
test checks the frames it sends (shim_host checks their order)."""

import json
import os
import socket
import tempfile
import unittest

from shim_host import EXAMPLES, Shim, handler_path, proto

MIB = 1 << 20


def example(name):
    return os.path.join(EXAMPLES, name, "handler.py")


class LoadTest(unittest.TestCase):
    def test_loaded_reports_the_code_and_runtime(self):
        with Shim(handler_path("counter"), code_files=7, code_bytes=4242) as shim:
            self.assertEqual(shim.loaded(), {"files": 7, "bytes": 4242, "runtime": "python"})
            self.assertEqual(shim.finish(), 0)

    def load_error(self, handler):
        """The ERROR frame a shim that cannot load `handler` sends."""
        with Shim(handler) as shim:
            frame = shim.read_frame()
            self.assertIsNotNone(frame)
            self.assertEqual(frame.type, proto.ERROR)
            self.assertIsNone(shim.read_frame(), "the shim closes after ERROR")
            self.assertEqual(shim.wait_exit(), 1)
            return proto.decode_control(frame.payload)

    def test_exception_at_import_is_load_failed_with_the_traceback(self):
        error = self.load_error(handler_path("broken_import"))
        self.assertEqual(error["code"], "load_failed")
        self.assertIn("Traceback", error["message"])
        self.assertIn("broken_import.py", error["message"])
        self.assertIn("RuntimeError: no database at import", error["message"])
        self.assertNotIn("hearth_shim.py", error["message"], "the shim's own frames are left out")

    def test_syntax_error_is_load_failed(self):
        error = self.load_error(handler_path("syntax_error"))
        self.assertEqual(error["code"], "load_failed")
        self.assertIn("SyntaxError", error["message"])
        self.assertIn("syntax_error.py", error["message"])

    def test_missing_file_is_load_failed(self):
        error = self.load_error(handler_path("does_not_exist"))
        self.assertEqual(error["code"], "load_failed")
        self.assertIn("does_not_exist.py", error["message"])

    def test_module_without_callable_handle_is_no_handle(self):
        error = self.load_error(handler_path("no_handle"))
        self.assertEqual(error["code"], "no_handle")

    def test_handler_named_like_a_runtime_module_is_refused(self):
        # Importing a file named time.py as "time" would replace the time
        # module the shim (and everything else) already uses.
        error = self.load_error(handler_path("time"))
        self.assertEqual(error["code"], "load_failed")
        self.assertIn("rename", error["message"])

    def test_bad_code_count_is_bad_environment(self):
        with Shim(handler_path("counter"), env={"HEARTH_CODE_FILES": "-1"}) as shim:
            frame = shim.read_frame()
            self.assertEqual(frame.type, proto.ERROR)
            self.assertEqual(proto.decode_control(frame.payload)["code"], "bad_environment")
            self.assertEqual(shim.wait_exit(), 1)

    def test_output_at_import_goes_to_the_process_not_the_connection(self):
        with Shim(handler_path("counter")) as shim:
            shim.loaded()
            result = shim.invoke(b"")
            self.assertEqual(result.logs, b"")
            self.assertEqual(shim.finish(), 0)
        self.assertEqual(shim.stdout, b"counter imported\n")


class InvokeTest(unittest.TestCase):
    def assert_ok(self, result):
        self.assertEqual(result.result["status"], "ok", result.logs.decode(errors="replace"))
        self.assertEqual(result.result["exit_status"], 0)
        self.assertNotIn("error", result.result)
        self.assertEqual(result.result["response_bytes"], len(result.response))
        self.assertEqual(result.result["log_bytes"], len(result.logs))
        self.assertIsInstance(result.result["duration_us"], int)

    def assert_failed(self, result, error_start):
        self.assertEqual(result.result["status"], "error")
        self.assertEqual(result.result["exit_status"], 1)
        self.assertTrue(
            result.result["error"].startswith(error_start),
            "%r does not start with %r" % (result.result["error"], error_start),
        )
        self.assertEqual(result.response, b"")
        self.assertEqual(result.result["response_bytes"], 0)

    def test_echo_bytes_of_every_value_across_many_frames(self):
        event = bytes(range(256)) * 2500  # 640,000 bytes: three DATA frames each way
        with Shim(example("python-echo")) as shim:
            shim.loaded()
            result = shim.invoke(event, "application/octet-stream", request_id="echo-1")
            self.assert_ok(result)
            self.assertEqual(result.response, event)
            self.assertEqual(result.logs, b"echoing request echo-1\n")
            self.assertEqual(shim.finish(), 0)

    def test_empty_event_and_empty_response(self):
        with Shim(example("python-echo")) as shim:
            shim.loaded()
            result = shim.invoke(b"", "text/plain")
            self.assert_ok(result)
            self.assertEqual(result.response, b"")
            self.assertEqual(shim.finish(), 0)

    def test_json_in_json_out_with_invocation_env(self):
        event = {"name": "Ada", "numbers": [1, 2, 3.5]}
        with Shim(example("python-json")) as shim:
            shim.loaded()
            result = shim.invoke(
                event, "application/json; charset=utf-8", function="stats", env={"GREETING": "Hi"}
            )
            self.assert_ok(result)
            answer = json.loads(result.response)
            self.assertEqual(answer["greeting"], "Hi, Ada!")
            self.assertEqual(answer["count"], 3)
            self.assertEqual(answer["sum"], 6.5)
            self.assertEqual(answer["max"], 3.5)
            self.assertEqual(answer["function"], "stats")
            self.assertIsNone(answer["remaining_ms"], "no timeout_ms: no deadline")
            self.assertIn(b"INFO python-json: request req-1: 3 numbers\n", result.logs)
            self.assertNotIn(b"INFO", result.response)
            # The invocation's env was undone after it.
            second = shim.invoke({"name": "Bo"}, "application/json")
            self.assert_ok(second)
            self.assertEqual(json.loads(second.response)["greeting"], "Hello, Bo!")
            self.assertEqual(shim.finish(), 0)

    def test_json_response_is_compact_utf8(self):
        with Shim(example("python-echo")) as shim:
            shim.loaded()
            result = shim.invoke({"k": ["\u00e9", 1, None]}, "application/json")
            self.assert_ok(result)
            self.assertEqual(result.response, '{"k":["\u00e9",1,null]}'.encode())
            self.assertEqual(shim.finish(), 0)

    def test_invalid_json_event_is_a_failed_result(self):
        with Shim(example("python-echo")) as shim:
            shim.loaded()
            result = shim.invoke(b'{"unterminated": ', "application/json")
            self.assert_failed(result, "invalid JSON event")
            self.assertIn(b"not valid JSON", result.logs)
            again = shim.invoke(b"[1]", "application/json")  # the shim serves on
            self.assert_ok(again)
            self.assertEqual(again.response, b"[1]")
            self.assertEqual(shim.finish(), 0)

    def test_prints_and_logging_go_to_logs_only(self):
        with Shim(handler_path("chatty")) as shim:
            shim.loaded()
            result = shim.invoke(b"")
            self.assert_ok(result)
            self.assertEqual(result.response, b"the response")
            self.assertEqual(
                result.logs,
                b"print line\n"
                b"stdout line\n"
                b"stderr line\n"
                b"stdout bytes line\n"
                b"logging INFO info line\n"
                b"logging WARNING warning line\n"
                b"context line\n"
                b"no newline yet",
            )
            self.assertEqual(shim.finish(), 0)
        self.assertEqual(shim.stdout + shim.stderr, b"", "nothing leaked to the process")

    def test_logs_are_streamed_while_the_handler_runs(self):
        with tempfile.TemporaryDirectory() as scratch, Shim(handler_path("waits")) as shim:
            fifo = os.path.join(scratch, "fifo")
            os.mkfifo(fifo)
            shim.loaded()
            shim.send_invoke(b"", env={"HEARTH_TEST_FIFO": fifo})
            # The handler blocks until we open the FIFO, which we do only
            # after its log line has arrived.
            first = shim.read_frame()
            self.assertEqual(first, (proto.DATA, proto.STREAM_LOG, b"waiting for the host\n"))
            with open(fifo, "wb") as go:
                go.write(b"go")
            result = shim.collect()
            self.assertEqual(result.response, b"host said go")
            self.assertEqual(result.logs, b"", "the line was sent once, before")
            self.assertEqual(result.result["log_bytes"], len(first.payload))
            self.assertEqual(shim.finish(), 0)

    def test_exception_is_status_error_with_traceback_in_logs(self):
        with Shim(handler_path("raises")) as shim:
            shim.loaded()
            result = shim.invoke(b"bad input")
            self.assert_failed(result, "ValueError: boom: bad input")
            logs = result.logs.decode()
            self.assertTrue(logs.startswith("about to fail\nTraceback (most recent call last):\n"))
            self.assertIn('raises.py", line 10, in handle', logs)
            self.assertIn('raises.py", line 5, in check', logs)
            self.assertTrue(logs.endswith("ValueError: boom: bad input\n"))
            self.assertNotIn("hearth_shim.py", logs)
            self.assertEqual(shim.finish(), 0)

    def test_response_over_the_default_cap_is_truncated(self):
        with Shim(handler_path("sized")) as shim:
            shim.loaded()
            full = shim.invoke(str(8 * MIB).encode(), response_cap=8 * MIB).response
            result = shim.invoke(str(8 * MIB).encode())
            self.assertEqual(result.result["status"], "ok")
            self.assertTrue(result.result["response_truncated"])
            self.assertEqual(result.result["response_bytes"], 6 * MIB)
            self.assertEqual(result.response, full[: 6 * MIB])
            self.assertEqual(shim.finish(), 0)

    def test_response_cap_raised_to_8_mib_gives_8_mib_intact(self):
        with Shim(handler_path("sized")) as shim:
            shim.loaded()
            result = shim.invoke(str(8 * MIB).encode(), response_cap=8 * MIB)
            self.assert_ok(result)
            self.assertFalse(result.result["response_truncated"])
            self.assertEqual(len(result.response), 8 * MIB)
            pattern = bytes(range(251))
            self.assertEqual(result.response, (pattern * (8 * MIB // 251 + 1))[: 8 * MIB])
            self.assertEqual(shim.finish(), 0)

    def test_logs_over_the_cap_are_truncated(self):
        with Shim(handler_path("sized")) as shim:
            shim.loaded()
            result = shim.invoke(b"10", log_cap=100, env={"HEARTH_TEST_LOG_BYTES": "1000"})
            self.assert_ok(result)
            self.assertEqual(result.logs, b"x" * 100)
            self.assertEqual(result.result["log_bytes"], 100)
            self.assertTrue(result.result["logs_truncated"])
            self.assertEqual(len(result.response), 10)
            self.assertFalse(result.result["response_truncated"])
            self.assertEqual(shim.finish(), 0)

    def test_default_log_cap_is_1_mib(self):
        with Shim(handler_path("sized")) as shim:
            shim.loaded()
            result = shim.invoke(b"0", env={"HEARTH_TEST_LOG_BYTES": str(MIB + 1)})
            self.assertEqual(result.result["log_bytes"], MIB)
            self.assertTrue(result.result["logs_truncated"])
            self.assertEqual(result.logs, b"x" * MIB)
            self.assertEqual(shim.finish(), 0)

    def test_two_invocations_share_one_import(self):
        with Shim(handler_path("counter")) as shim:
            shim.loaded()
            first = shim.invoke(b"")
            second = shim.invoke(b"")
            self.assertEqual(json.loads(first.response), {"imports": 1, "calls": 1})
            self.assertEqual(json.loads(second.response), {"imports": 1, "calls": 2})
            self.assertEqual(shim.finish(), 0)

    def test_context_and_environment(self):
        with Shim(handler_path("context_info")) as shim:
            shim.loaded()
            result = shim.invoke(
                b"raw",
                "text/plain",
                request_id="r-42",
                function="info",
                memory_mb=256,
                timeout_ms=600000,
                env={"HEARTH_TEST_A": "a=1", "HEARTH_TEST_B": "\u00e9"},
            )
            self.assert_ok(result)
            info = json.loads(result.response)
            self.assertEqual(info["request_id"], "r-42")
            self.assertEqual(info["function_name"], "info")
            self.assertEqual(info["memory_limit_in_mb"], 256)
            self.assertGreaterEqual(info["remaining_ms"], 0)
            self.assertLessEqual(info["remaining_ms"], 600000)
            self.assertEqual(
                info["env"], {"HEARTH_TEST_A": "a=1", "HEARTH_TEST_B": "\u00e9", "LANG": "C.UTF-8"}
            )
            self.assertFalse(info["has_fd"], "HEARTH_FD is hidden from the handler")
            self.assertEqual(info["event_type"], "bytes")
            after = json.loads(shim.invoke(b"", "text/plain").response)
            self.assertEqual(after["env"]["HEARTH_TEST_A"], None)
            self.assertEqual(after["memory_limit_in_mb"], None)
            self.assertEqual(shim.finish(), 0)

    def test_return_types(self):
        expected = {
            "none": b"",
            "str": "h\u00e9llo \u2603".encode(),
            "bytearray": b"\x00\x01\xff",
            "memoryview": b"cde",
            "list": '[1,"\u00e9",{"a":null}]'.encode(),
        }
        with Shim(handler_path("returns")) as shim:
            shim.loaded()
            for kind, response in expected.items():
                result = shim.invoke({"kind": kind}, "application/json")
                self.assert_ok(result)
                self.assertEqual(result.response, response, kind)
            self.assertEqual(shim.finish(), 0)

    def test_unsupported_and_unencodable_returns_fail(self):
        failures = {
            "int": "unsupported return type int",
            "nan": "response not encodable",
            "object": "response not encodable",
            "exit": "SystemExit: 3",
            "missing": "KeyError: 'missing'",
        }
        with Shim(handler_path("returns")) as shim:
            shim.loaded()
            for kind, error in failures.items():
                result = shim.invoke({"kind": kind}, "application/json")
                self.assert_failed(result, error)
                self.assertNotEqual(result.logs, b"", kind)
            self.assertEqual(shim.finish(), 0)


class AfterRestoreTest(unittest.TestCase):
    """What a clone runs before its first INVOKE (PROTOCOL.md, "Snapshots")."""

    def test_reseeds_random_and_runs_the_handlers_hook(self):
        import random
        import types

        import hearth_shim

        module = types.ModuleType("handler")
        module.restored = 0

        def hook():
            module.restored += 1

        module.after_restore = hook
        random.seed(1)
        after_seed_1 = random.random()
        random.seed(1)
        hearth_shim.after_restore(module)
        self.assertEqual(module.restored, 1)
        self.assertNotEqual(random.random(), after_seed_1, "random was reseeded")
        hearth_shim.after_restore(types.ModuleType("no_hook"))  # optional

    def test_reseeds_openssl_when_ssl_is_loaded(self):
        import ssl  # noqa: F401  (loaded: after_restore must feed it)
        import types

        import hearth_shim

        hearth_shim.after_restore(types.ModuleType("handler"))


class RestoredConnectionTest(unittest.TestCase):
    """With HEARTH_LISTEN_FD, a connection that ends before its first frame
    (a restored clone's, reset) sends the shim back to accept()."""

    def listen(self, directory):
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        path = os.path.join(directory, "listen.sock")
        listener.bind(path)
        listener.listen(1)
        return listener, path

    def rejoin(self, shim, path):
        shim.sock.close()  # what a restore does to the snapshot's connection
        shim.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        shim.sock.settimeout(10)
        shim.sock.connect(path)
        return shim.read_control(proto.HELLO)

    def test_reset_after_loaded_says_hello_restored_then_serves(self):
        with tempfile.TemporaryDirectory() as d:
            listener, path = self.listen(d)
            with Shim(handler_path("counter"), listener=listener) as shim:
                shim.loaded()
                hello = self.rejoin(shim, path)
                self.assertIs(hello["restored"], True)
                self.assertEqual(hello["protocol"], 1)
                self.assertEqual(hello["image"], "python-test")
                self.assertEqual(hello["runtime"], "python")
                self.assertRegex(hello["boot_id"], "^[0-9a-f]{32}$")
                # A second reset before INVOKE (snapshot of a clone): again.
                second = self.rejoin(shim, path)
                self.assertNotEqual(second["boot_id"], hello["boot_id"])
                result = shim.invoke(b"")
                self.assertEqual(result.result["status"], "ok", result.logs)
                self.assertEqual(json.loads(result.response), {"imports": 1, "calls": 1})
                self.assertEqual(shim.finish(), 0, "an end after an invocation is the end")
            listener.close()

    def test_without_a_listener_an_end_before_invoke_ends_the_shim(self):
        with Shim(handler_path("counter")) as shim:
            shim.loaded()
            self.assertEqual(shim.finish(), 0)


class ProtocolErrorTest(unittest.TestCase):
    def assert_protocol_error(self, shim, code):
        frame = shim.read_frame()
        self.assertIsNotNone(frame, "an ERROR frame before the close")
        self.assertEqual(frame.type, proto.ERROR)
        error = proto.decode_control(frame.payload)
        self.assertEqual(error["code"], code, error["message"])
        try:
            self.assertIsNone(shim.read_frame(), "nothing after ERROR")
        except ConnectionResetError:
            pass  # the shim closed with the rest of our bytes unread
        self.assertEqual(shim.wait_exit(), 1)
        return error

    def test_data_instead_of_invoke(self):
        with Shim(handler_path("counter")) as shim:
            shim.loaded()
            proto.write_data(shim.sock, proto.STREAM_EVENT, b"x")
            self.assert_protocol_error(shim, "protocol")

    def test_garbage_header(self):
        with Shim(handler_path("counter")) as shim:
            shim.loaded()
            shim.sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
            self.assertIn("magic", self.assert_protocol_error(shim, "protocol")["message"])

    def test_oversized_data_frame_is_refused_from_its_header(self):
        with Shim(handler_path("counter")) as shim:
            shim.loaded()
            proto.write_control(shim.sock, proto.INVOKE, {"request_id": "r", "content_type": "x"})
            # Only the header: the shim must refuse it without waiting for a payload.
            shim.sock.sendall(
                bytes([0x68, 1, proto.DATA, proto.STREAM_EVENT])
                + (proto.DATA_MAX + 1).to_bytes(4, "little")
            )
            self.assertIn("limit", self.assert_protocol_error(shim, "protocol")["message"])

    def test_bad_invoke(self):
        for invoke, reason in (
            ({"content_type": "x"}, "request_id"),
            ({"request_id": "", "content_type": "x"}, "request_id"),
            ({"request_id": "r"}, "content_type"),
            ({"request_id": "r", "content_type": "x", "env": {"A=B": "1"}}, "env"),
            ({"request_id": "r", "content_type": "x", "env": {"A": 1}}, "env"),
            ({"request_id": "r", "content_type": "x", "timeout_ms": -1}, "timeout_ms"),
            ({"request_id": "r", "content_type": "x", "response_cap": 1 << 53}, "response_cap"),
        ):
            with self.subTest(invoke), Shim(handler_path("counter")) as shim:
                shim.loaded()
                # By hand: encode_control refuses what the shim must refuse.
                payload = json.dumps(invoke).encode()
                proto.write_frame(shim.sock, proto.INVOKE, 0, payload)
                self.assertIn(reason, self.assert_protocol_error(shim, "bad_invoke")["message"])

    def test_malformed_invoke_json(self):
        with Shim(handler_path("counter")) as shim:
            shim.loaded()
            proto.write_frame(shim.sock, proto.INVOKE, 0, b'{"request_id":"r",')
            self.assert_protocol_error(shim, "bad_invoke")

    def test_wrong_stream_inside_the_event(self):
        with Shim(handler_path("counter")) as shim:
            shim.loaded()
            proto.write_control(shim.sock, proto.INVOKE, {"request_id": "r", "content_type": "x"})
            proto.write_data(shim.sock, proto.STREAM_CODE, b"x")
            self.assert_protocol_error(shim, "protocol")

    def test_event_over_the_cap(self):
        with Shim(handler_path("counter"), env={"HEARTH_EVENT_CAP": "1000"}) as shim:
            shim.loaded()
            shim.send_invoke(b"y" * 1001)
            self.assert_protocol_error(shim, "event_too_large")

    def test_event_at_the_cap_is_served(self):
        with Shim(example("python-echo"), env={"HEARTH_EVENT_CAP": "1000"}) as shim:
            shim.loaded()
            self.assertEqual(shim.invoke(b"y" * 1000).response, b"y" * 1000)
            self.assertEqual(shim.finish(), 0)

    def test_host_error_frame_ends_the_shim(self):
        with Shim(handler_path("counter")) as shim:
            shim.loaded()
            proto.send_error(shim.sock, "shutting_down", "bye")
            self.assertIsNone(shim.read_frame())
            self.assertEqual(shim.wait_exit(), 1)

    def test_host_closing_inside_the_event(self):
        with Shim(handler_path("counter")) as shim:
            shim.loaded()
            proto.write_control(shim.sock, proto.INVOKE, {"request_id": "r", "content_type": "x"})
            shim.sock.shutdown(2)  # SHUT_RDWR
            self.assertEqual(shim.wait_exit(), 1)


if __name__ == "__main__":
    unittest.main()

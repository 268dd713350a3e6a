"""Returns what the event (JSON) names: a way to test each return type."""


class Opaque:
    pass


def handle(event, context):
    kind = event["kind"]
    if kind == "int":
        return 42
    if kind == "none":
        return None
    if kind == "str":
        return "h\u00e9llo \u2603"
    if kind == "bytearray":
        return bytearray(b"\x00\x01\xff")
    if kind == "memoryview":
        return memoryview(b"abcdef")[2:5]
    if kind == "list":
        return [1, "\u00e9", {"a": None}]
    if kind == "nan":
        return {"x": float("nan")}
    if kind == "object":
        return {"x": Opaque()}
    if kind == "exit":
        raise SystemExit(3)
    raise KeyError(kind)

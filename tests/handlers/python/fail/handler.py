"""fail: logs a line, then raises (a failed invocation: status 1)."""


def handle(event, context):
    print("fail: about to raise")
    raise ValueError("the handler failed on purpose")

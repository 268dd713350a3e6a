"""Raises from inside a helper, so the traceback has two handler frames."""


def check(event):
    raise ValueError("boom: %s" % event.decode())


def handle(event, context):
    print("about to fail")
    return check(event)

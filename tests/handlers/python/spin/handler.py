"""spin: never returns (for timeouts)."""


def handle(event, context):
    n = 0
    while True:
        n += 1

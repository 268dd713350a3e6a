"""big: the event is a byte count N (JSON); answers N bytes where byte i is
i % 251 (tests/handlers/pattern.h)."""

BLOCK = bytes(range(251))


def handle(event, context):
    n = int(event)
    return (BLOCK * (n // len(BLOCK) + 1))[:n]

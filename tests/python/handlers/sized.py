"""Returns as many bytes as the event (a decimal number) asks for, in a
pattern that shows where a truncation happened, and logs as many bytes as
HEARTH_TEST_LOG_BYTES says."""

import os
import sys


def handle(event, context):
    size = int(event)
    sys.stderr.write("x" * int(os.environ.get("HEARTH_TEST_LOG_BYTES", "0")))
    pattern = bytes(range(251))  # a prime length: no alignment hides a shift
    return (pattern * (size // len(pattern) + 1))[:size]

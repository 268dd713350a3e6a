"""Logs a line, then waits for the host: it opens the FIFO named by
HEARTH_TEST_FIFO only once it has seen that line, so this returns only if
the line was sent while the handler was still running."""

import os


def handle(event, context):
    print("waiting for the host")
    with open(os.environ["HEARTH_TEST_FIFO"], "rb") as fifo:
        return b"host said " + fifo.read()

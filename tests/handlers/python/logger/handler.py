"""logger: writes logs around its response, so a test can check that logs
reach stderr and never stdout."""

import sys


def handle(event, context):
    print("logger: first log line")
    sys.stderr.write("logger: second log line\n")
    return "the response\n"

"""Writes to every log channel a handler has, then returns a short text."""

import logging
import sys

logging.basicConfig(level=logging.INFO, format="logging %(levelname)s %(message)s")


def handle(event, context):
    print("print line")
    sys.stdout.write("stdout line\n")
    sys.stderr.write("stderr line\n")
    sys.stdout.buffer.write(b"stdout bytes line\n")
    logging.info("info line")
    logging.getLogger("named").warning("warning line")
    context.log("context line")
    print("no newline yet", end="")
    return "the response"

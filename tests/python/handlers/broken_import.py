"""Fails at import."""


def setup():
    raise RuntimeError("no database at import")


setup()


def handle(event, context):
    return "never"

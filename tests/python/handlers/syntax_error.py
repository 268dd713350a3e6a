"""Does not compile."""


def handle(event, context)
    return event

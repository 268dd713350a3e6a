"""Returns what the context and the environment say about the invocation."""

import os


def handle(event, context):
    return {
        "request_id": context.request_id,
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "env": {name: os.environ.get(name) for name in ("HEARTH_TEST_A", "HEARTH_TEST_B", "LANG")},
        "has_fd": "HEARTH_FD" in os.environ,
        "event_type": type(event).__name__,
    }

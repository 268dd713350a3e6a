"""python-json: a JSON API function. Given {"name": ..., "numbers": [...]},
answers a greeting and statistics of the numbers; shows the context object,
logging, invocation environment variables and errors as failed results."""

import logging
import os
import statistics

logger = logging.getLogger("python-json")
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

# Module-level state is built once per VM, at import, and reused by every
# invocation the VM serves.
GREETING = os.environ.get("GREETING", "Hello")


def handle(event, context):
    if not isinstance(event, dict):
        raise TypeError("expected a JSON object, got %s" % type(event).__name__)
    numbers = event.get("numbers", [])
    if not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
        raise ValueError("numbers must be a list of numbers")
    logger.info("request %s: %d numbers", context.request_id, len(numbers))
    answer = {
        "greeting": "%s, %s!" % (os.environ.get("GREETING", GREETING), event.get("name", "world")),
        "count": len(numbers),
        "function": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
    if numbers:
        answer.update(sum=sum(numbers), mean=statistics.fmean(numbers), max=max(numbers))
    return answer

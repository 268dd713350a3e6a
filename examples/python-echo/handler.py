"""python-echo: answers every invocation with its event."""

import json


def handle(event, context):
    print("echoing request", context.request_id)  # to the logs, not the response
    # Non-JSON content types arrive as bytes and go back as is. JSON arrives
    # decoded: objects and arrays go back as JSON by themselves; a scalar
    # (string, number, true/false/null) is encoded back here.
    if isinstance(event, (bytes, dict, list)):
        return event
    return json.dumps(event, ensure_ascii=False)

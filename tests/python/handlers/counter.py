"""Counts its imports (in builtins, which a re-import would not reset) and
its calls (in the module, which a re-import would reset)."""

import builtins

builtins.hearth_test_imports = getattr(builtins, "hearth_test_imports", 0) + 1
calls = 0
print("counter imported")  # at import: the process's stdout, not a LOG stream


def handle(event, context):
    global calls
    calls += 1
    return {"imports": builtins.hearth_test_imports, "calls": calls}

"""``python -m tests.fuzz.broken_system_config``: system_config with a deliberately broken
``Get`` that raises ``ValueError`` on every key.

The fuzzers (``tests/test_fuzz_krpc.py``, ``tests/test_fuzz_ws.py``) run against a real
system_config process and must notice when a handler crashes; ``test_fuzz_detector.py``
points their detectors at this process to prove they do.  Same options as
``python -m buckyos.services.system_config``.
"""

from __future__ import annotations

import sys

from buckyos.generated import system_config_pb2 as sc
from buckyos.runtime.server.request import Request
from buckyos.services.system_config import service
from buckyos.services.system_config.__main__ import main

BROKEN = "broken on purpose"


def _broken_get(
    self: service.SystemConfigService, request: sc.KeyRequest, req: Request
) -> sc.GetResult:
    raise ValueError(f"{BROKEN}: {request.key!r}")


if __name__ == "__main__":
    # Only in that process (importing BROKEN must not break the importer's system_config),
    # and before main() builds the binding, which takes the service's methods as they are.
    service.SystemConfigService.Get = _broken_get  # type: ignore[method-assign]
    sys.exit(main())

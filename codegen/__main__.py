"""``python -m buckyos.codegen``: run the driver (see ``buckyos.codegen.driver``)."""

from .driver import main

raise SystemExit(main())

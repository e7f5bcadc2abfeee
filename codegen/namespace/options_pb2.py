"""``buckyos.options_pb2``: the name protoc's own output gives ``buckyos/options.proto``.

A contract's ``_pb2.py`` from a plain ``protoc --python_out`` imports
``from buckyos import options_pb2``; the package installs that file as
``buckyos.generated.options_pb2`` (``buckyos codegen`` rewrites the import).  This module
makes the plain import work too: it *is* ``buckyos.generated.options_pb2``, so the options
are registered once.  Packaged as the top-level ``buckyos`` namespace's only module
(``pyproject.toml`` maps the ``buckyos`` package to this folder); import the real one.
"""

import sys

from buckyos.generated import options_pb2 as _options_pb2

sys.modules[__name__] = _options_pb2

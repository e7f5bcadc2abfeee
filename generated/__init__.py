"""Output of ``make codegen`` from ``proto/buckyos``; never edited by hand.

``<service>_pb2`` are protoc's messages, ``<service>_rpc`` our verb tables, client stubs
(``SystemConfigStub``, ``AsyncSystemConfigStub``) and server bases
(``SystemConfigServicer``).  CI fails when these files differ from what codegen writes.
"""

"""etcd's gRPC messages (rpc, kv, auth), generated under package names that cannot clash.

Regenerate with ``make etcd-api`` (see :mod:`._generate`); never edit the ``*_pb2`` files.
"""

"""Code generation: the ``protoc-gen-buckyos`` plugin and the ``make codegen`` driver.

``contract`` reads a protoc request into a validated model (every problem with
``file:line``), ``render`` writes the Python, ``plugin`` speaks protoc's plugin protocol,
``driver`` runs grpcio-tools' protoc with it and writes the output atomically.
"""

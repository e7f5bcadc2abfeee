"""gRPC, client side: a sync and async transport over grpcio channels.

The counterpart of :mod:`grpc_server`: the session token travels as metadata
``authorization: Bearer <token>``, the trace id as ``x-trace-id``, and a failed call's
status and details come back through ``error_from_grpc``, which rebuilds the same error
class a kRPC call would raise (our servers put the exact kRPC text in the details).

One channel per transport for sync calls and one ``grpc.aio`` channel per event loop
(an aio channel belongs to the loop it was made in); the multicallable of each verb is
made once per channel and cached, since building it costs more than a small call.
"""

from __future__ import annotations

import asyncio
import threading
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio

from buckyos.runtime.client.resolve import Endpoint
from buckyos.runtime.client.revisions import SeenRevisions
from buckyos.runtime.client.transports import TransportSettings, register_transport
from buckyos.runtime.descriptor import MethodDescriptor, ReqT, RespT
from buckyos.runtime.errors import ConfigError, RPCError, error_from_grpc
from buckyos.runtime.transport import Method, Transport
from buckyos.runtime.wire.dispatch import REVISION_HEADER

if TYPE_CHECKING:
    from buckyos.runtime.security.node_tls import NodeTls

__all__ = ["DEFAULT_TIMEOUT", "GrpcTransport", "error_from_rpc_error", "grpc_target"]


DEFAULT_TIMEOUT = 15.0
"""Seconds; the same default as upstream's kRPC client, so both wires fail alike."""


def error_from_rpc_error(exc: grpc.RpcError) -> RPCError:
    """The runtime error for a failed grpc call (sync or aio)."""
    code = exc.code() if callable(getattr(exc, "code", None)) else None
    details = exc.details() if callable(getattr(exc, "details", None)) else None
    name = code.name if isinstance(code, grpc.StatusCode) else "UNKNOWN"
    return error_from_grpc(name, details)


def grpc_target(address: str) -> str:
    """The grpc target of an endpoint: ``grpc://host:port`` (the URL form ``service_urls``
    takes) becomes ``host:port``; a bare ``host:port`` or another grpc target
    (``dns:///host:port``, ``unix:/path``) is kept.  An http(s) URL is a ``ConfigError``:
    that is a kRPC endpoint."""
    parts = urllib.parse.urlsplit(address) if "://" in address else None
    if parts is None or parts.scheme not in ("grpc", "http", "https"):
        return address
    if parts.scheme != "grpc":
        raise ConfigError(
            f"{address!r} is a kRPC URL, not a gRPC endpoint: give grpc://host:port (or "
            "host:port), or call it with KrpcTransport"
        )
    if not parts.netloc or parts.path.strip("/") or parts.query or parts.fragment:
        raise ConfigError(f"gRPC endpoint {address!r}: expected grpc://host:port")
    return parts.netloc


def _codec(method: MethodDescriptor[Any, Any]) -> dict[str, Any]:
    """How a verb's messages travel: the codec arguments of its multicallable (on a sync
    or an aio channel alike)."""
    return {
        "request_serializer": method.request_type.SerializeToString,
        "response_deserializer": method.response_type.FromString,
    }


class _AioChannel:
    __slots__ = ("calls", "channel")

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.channel = channel
        self.calls: dict[str, grpc.aio.UnaryUnaryMultiCallable[Any, Any]] = {}


class GrpcTransport(Transport):
    """Sync (``invoke``) and async (``ainvoke``) gRPC client of one server.

    ``target`` is ``grpc://127.0.0.1:3201`` (the URL form ``service_urls`` takes) or a
    grpc target (``127.0.0.1:3201``, see :func:`grpc_target`); ``credentials`` makes the
    channels secure.  ``token`` and ``trace_id`` are plain attributes (set ``transport.token`` to
    renew).  ``revisions`` (a Router gives its own) keeps the store revisions answers carry
    and sends them back with the next calls (:mod:`.revisions`).
    Close with :meth:`close` / :meth:`aclose` or use it as a context manager.
    """

    def __init__(
        self,
        target: str,
        *,
        token: str | None = None,
        trace_id: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        options: Sequence[tuple[str, Any]] = (),
        credentials: grpc.ChannelCredentials | None = None,
        revisions: SeenRevisions | None = None,
    ) -> None:
        self.target = grpc_target(target)
        self.revisions = revisions
        self.timeout = timeout
        self._options = list(options)
        self._credentials = credentials
        self.token = token
        self.trace_id = trace_id
        # The metadata of the last (token, trace id) the transport's own token went with.
        self._metadata: tuple[str | None, str | None, tuple[tuple[str, str], ...]] = (
            token,
            trace_id,
            self._build_metadata(token, trace_id),
        )
        self._lock = threading.Lock()
        self._channel: grpc.Channel | None = None
        self._calls: dict[str, grpc.UnaryUnaryMultiCallable[Any, Any]] = {}
        self._aio: dict[asyncio.AbstractEventLoop, _AioChannel] = {}

    def __repr__(self) -> str:
        return f"<GrpcTransport {self.target}>"

    def _metadata_for(self, token: str | None, api: str) -> tuple[tuple[str, str], ...]:
        # The common case (the transport's own token) reuses the tuple built last time.
        trace_id = self.trace_id
        own, traced, metadata = self._metadata
        if token != own or trace_id != traced:
            metadata = self._build_metadata(token, trace_id)
            if token == self.token:
                self._metadata = (token, trace_id, metadata)
        revisions = self.revisions
        if revisions is not None:
            floor = revisions.get(api)
            if floor:
                return (*metadata, (REVISION_HEADER, str(floor)))
        return metadata

    def _answered(self, api: str, trailing: Any) -> None:
        """Keep the revision an answer's trailing metadata carries."""
        revisions = self.revisions
        if revisions is None or not trailing:
            return
        for key, value in trailing:
            if key == REVISION_HEADER and isinstance(value, str):
                revisions.saw_header(api, value)

    @staticmethod
    def _build_metadata(token: str | None, trace_id: str | None) -> tuple[tuple[str, str], ...]:
        metadata: list[tuple[str, str]] = []
        if token is not None:
            metadata.append(("authorization", f"Bearer {token}"))
        if trace_id is not None:
            metadata.append(("x-trace-id", trace_id))
        return tuple(metadata)

    # --- sync --------------------------------------------------------------------------

    def _callable(
        self, method: MethodDescriptor[ReqT, RespT]
    ) -> grpc.UnaryUnaryMultiCallable[ReqT, RespT]:
        call = self._calls.get(method.grpc_path)
        if call is None:
            with self._lock:
                if self._channel is None:
                    if self._credentials is None:
                        self._channel = grpc.insecure_channel(self.target, options=self._options)
                    else:
                        self._channel = grpc.secure_channel(
                            self.target, self._credentials, options=self._options
                        )
                call = self._channel.unary_unary(method.grpc_path, **_codec(method))
                self._calls[method.grpc_path] = call
        return call

    def _send(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        """One call on the sync channel."""
        call = self._callable(method)
        seconds = self.timeout if timeout is None else timeout
        api = method.api
        metadata = self._metadata_for(token, api)
        try:
            if self.revisions is None:
                response: RespT = call(request, timeout=seconds, metadata=metadata)
            else:
                response, done = call.with_call(request, timeout=seconds, metadata=metadata)
                self._answered(api, done.trailing_metadata())
        except grpc.RpcError as exc:
            raise error_from_rpc_error(exc) from None
        return response

    def close(self) -> None:
        """Close the sync channel (it reopens on the next call)."""
        with self._lock:
            channel, self._channel = self._channel, None
            self._calls = {}
        if channel is not None:
            channel.close()

    # --- async -------------------------------------------------------------------------

    def _aio_callable(
        self, method: MethodDescriptor[ReqT, RespT]
    ) -> grpc.aio.UnaryUnaryMultiCallable[ReqT, RespT]:
        loop = asyncio.get_running_loop()
        entry = self._aio.get(loop)
        if entry is None:
            for old in [old for old in self._aio if old.is_closed()]:
                del self._aio[old]
            if self._credentials is None:
                channel = grpc.aio.insecure_channel(self.target, options=self._options)
            else:
                channel = grpc.aio.secure_channel(
                    self.target, self._credentials, options=self._options
                )
            entry = self._aio[loop] = _AioChannel(channel)
        call = entry.calls.get(method.grpc_path)
        if call is None:
            call = entry.channel.unary_unary(method.grpc_path, **_codec(method))
            entry.calls[method.grpc_path] = call
        return call

    async def _asend(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        """One call on this loop's aio channel."""
        call = self._aio_callable(method)
        seconds = self.timeout if timeout is None else timeout
        api = method.api
        try:
            pending = call(request, timeout=seconds, metadata=self._metadata_for(token, api))
            response: RespT = await pending
            if self.revisions is not None:
                self._answered(api, await pending.trailing_metadata())
        except grpc.RpcError as exc:
            raise error_from_rpc_error(exc) from None
        return response

    async def aclose(self) -> None:
        """Close the aio channel of the running loop (and the sync channel)."""
        entry = self._aio.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry.channel.close()
        self.close()


def _for_endpoint(endpoint: Endpoint, settings: TransportSettings) -> GrpcTransport:
    # A channel whose server went away backs off before reconnecting (up to 2 min by
    # default); cap that at dead_for so a revived instance is reached when retried.
    backoff = max(1000, int(settings.dead_for * 1000))
    options: dict[str, Any] = {
        "grpc.initial_reconnect_backoff_ms": 200,
        "grpc.min_reconnect_backoff_ms": 200,
        "grpc.max_reconnect_backoff_ms": backoff,
    }
    options.update(dict(settings.options.get("grpc", ())))
    if not endpoint.tls:
        return GrpcTransport(
            endpoint.address,
            timeout=settings.timeout,
            options=tuple(options.items()),
            revisions=settings.revisions,
        )
    # Another node's instance: TLS, trusting only that node's device key.
    if settings.tls is None or not endpoint.node:
        raise ConfigError(f"{endpoint}: node TLS needs the caller's NodeTls and a node name")
    options.update(settings.tls.grpc_options(endpoint.node))
    return _NodeTlsTransport(
        endpoint.address,
        settings.tls,
        endpoint.node,
        timeout=settings.timeout,
        options=tuple(options.items()),
        revisions=settings.revisions,
    )


class _NodeTlsTransport(GrpcTransport):
    """A gRPC transport to another node over node TLS: when this node's leaf is renewed
    (or the pins change) its channels are rebuilt with new credentials, since a grpc
    channel keeps the certificate it was made with; the old channels are closed once the
    calls in flight on them have had their timeout."""

    def __init__(
        self,
        target: str,
        tls: NodeTls,
        node: str,
        *,
        timeout: float,
        options: Sequence[Any],
        revisions: SeenRevisions | None = None,
    ) -> None:
        self._tls = tls
        self._node = node
        self._generation = tls.generation
        credentials = tls.grpc_channel_credentials(node)
        super().__init__(
            target,
            timeout=timeout,
            options=options,
            credentials=credentials,
            revisions=revisions,
        )

    def _renew(self) -> None:
        generation = self._tls.generation
        if generation == self._generation:
            return
        with self._lock:
            if generation == self._generation:
                return
            self._generation = generation
            self._credentials = self._tls.grpc_channel_credentials(self._node)
            channel, self._channel = self._channel, None
            self._calls = {}
            aio, self._aio = self._aio, {}
        later = (self.timeout or 60.0) + 1.0
        if channel is not None:
            timer = threading.Timer(later, channel.close)
            timer.daemon = True
            timer.start()
        for loop, entry in aio.items():
            if not loop.is_closed():
                loop.call_soon_threadsafe(_close_later, loop, entry.channel, later)

    def _send(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        self._renew()
        return super()._send(method, request, timeout, token)

    async def _asend(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        self._renew()
        return await super()._asend(method, request, timeout, token)


_CLOSING: set[asyncio.Task[None]] = set()
"""Old aio channels being closed (the loop keeps only weak references to tasks)."""


def _close_later(loop: asyncio.AbstractEventLoop, channel: grpc.aio.Channel, delay: float) -> None:
    def close() -> None:
        task = loop.create_task(channel.close())
        _CLOSING.add(task)
        task.add_done_callback(_CLOSING.discard)

    loop.call_later(delay, close)


register_transport("grpc", _for_endpoint)

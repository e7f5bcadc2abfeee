"""The kmsg servicer: every verb of ``proto/buckyos/kmsg.proto`` on a :class:`KmsgStore`.

Semantics and error texts are upstream's (``sled_msg_queue.rs``, upstream-services.md
7.1): ``Queue not found: <urn>``, ``Queue already exists: <urn>``, ``Subscription not
found: <id>``, ``Subscription already exists: <id>``; generated names ``queue-<n>`` and
``sub-<n>`` from global counters that are burnt even when the call then fails; indexes
from 1, never reused; ``created_at: 0`` filled in seconds; commit_ack unchecked; seek
``Earliest``/``Latest``/``At(n)``; ``length: 0`` reads one message.

Where we are stricter (``docs/services-messaging.md`` "The reference server"):

- every verb needs a verified session token, and the caller's rights follow the queue's
  access flags, its owner and the subscription's owner (:mod:`.access`);
- ``max_messages`` and ``retention_seconds`` are enforced (:mod:`.store`), and a config
  with a limit of 0 is refused (upstream would keep it and never act on it);
- a page holds at most :data:`~.store.MAX_PAGE` messages;
- every acknowledged change is on disk (``synchronous=FULL``), ``sync_write`` or not.
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf import empty_pb2

from buckyos.generated import kmsg_pb2 as km
from buckyos.generated.kmsg_rpc import KmsgServicer
from buckyos.runtime import ParseRequestError, ReasonError
from buckyos.runtime.server import Request

from .access import actor_of, check_name, check_owner, check_queue, check_sub
from .model import Position, QueueConfig, QueueInfo, StoredMessage, SubInfo
from .store import KmsgStore

__all__ = ["KmsgService", "config_of"]

_POSITIONS = {"earliest": Position.EARLIEST, "latest": Position.LATEST, "at": Position.AT}


def config_of(config: km.QueueConfig) -> QueueConfig:
    """The store's config of a wire one; a limit of 0 is refused (it would keep nothing
    or expire everything at once: write null for no limit)."""
    max_messages = config.max_messages if config.HasField("max_messages") else None
    retention = config.retention_seconds if config.HasField("retention_seconds") else None
    if max_messages == 0:
        raise ReasonError("Invalid queue config: max_messages must be at least 1 (null: no limit)")
    if retention == 0:
        raise ReasonError(
            "Invalid queue config: retention_seconds must be at least 1 (null: keep forever)"
        )
    return QueueConfig(
        max_messages=max_messages,
        retention_seconds=retention,
        sync_write=config.sync_write,
        other_app_can_read=config.other_app_can_read,
        other_app_can_write=config.other_app_can_write,
        other_user_can_read=config.other_user_can_read,
        other_user_can_write=config.other_user_can_write,
    )


def _position(position: km.SubPosition, field: str) -> tuple[Position, int]:
    which = position.WhichOneof("position")
    if which is None:
        raise ParseRequestError(f"Missing {field}")
    return _POSITIONS[which], position.at


def _messages(page: Sequence[StoredMessage]) -> km.MessageList:
    return km.MessageList(
        messages=[
            km.Message(index=m.index, created_at=m.created_at, payload=m.payload, headers=m.headers)
            for m in page
        ]
    )


class KmsgService(KmsgServicer):
    """kmsg on ``store`` (yours to close)."""

    def __init__(self, store: KmsgStore) -> None:
        self.store = store

    # -- queues ------------------------------------------------------------------------------

    def CreateQueue(self, request: km.CreateQueueRequest, req: Request) -> km.QueueUrn:
        actor = actor_of(req)
        actor.must_be("appid", request.appid, user=False)
        actor.must_be("app_owner", request.app_owner, user=True)
        name = request.name if request.HasField("name") else None
        if name is not None:
            check_name(actor, name, request.appid, request.app_owner)
        config = config_of(request.config)
        urn = self.store.create_queue(name, request.appid, request.app_owner, config)
        req.logger.info("queue %s created", urn)
        return km.QueueUrn(queue_urn=urn)

    def DeleteQueue(self, request: km.QueueUrnRequest, req: Request) -> empty_pb2.Empty:
        actor = actor_of(req)
        self.store.delete_queue(
            request.queue_urn, lambda queue: check_owner(actor, queue, "delete_queue")
        )
        req.logger.info("queue %s deleted", request.queue_urn)
        return empty_pb2.Empty()

    def GetQueueStats(self, request: km.QueueUrnRequest, req: Request) -> km.QueueStats:
        actor = actor_of(req)
        stats = self.store.stats(request.queue_urn, lambda queue: check_queue(actor, queue, "read"))
        return km.QueueStats(
            message_count=stats.message_count,
            first_index=stats.first_index,
            last_index=stats.last_index,
            size_bytes=stats.size_bytes,
        )

    def UpdateQueueConfig(
        self, request: km.UpdateQueueConfigRequest, req: Request
    ) -> empty_pb2.Empty:
        actor = actor_of(req)
        config = config_of(request.config)
        self.store.update_config(
            request.queue_urn,
            config,
            lambda queue: check_owner(actor, queue, "update_queue_config"),
        )
        return empty_pb2.Empty()

    # -- messages ----------------------------------------------------------------------------

    def PostMessage(self, request: km.PostMessageRequest, req: Request) -> km.MsgIndex:
        actor = actor_of(req)
        message = request.message
        index = self.store.post(
            request.queue_urn,
            created_at=message.created_at,
            payload=message.payload,
            headers=dict(message.headers),
            guard=lambda queue: check_queue(actor, queue, "write"),
        )
        return km.MsgIndex(index=index)

    def ReadMessage(self, request: km.ReadMessageRequest, req: Request) -> km.MessageList:
        actor = actor_of(req)
        page = self.store.read(
            request.queue_urn,
            request.cursor,
            request.length,
            lambda queue: check_queue(actor, queue, "read"),
        )
        return _messages(page)

    def DeleteMessageBefore(
        self, request: km.DeleteMessageBeforeRequest, req: Request
    ) -> km.DeletedCount:
        actor = actor_of(req)
        count = self.store.delete_before(
            request.queue_urn,
            request.index,
            lambda queue: check_owner(actor, queue, "delete_message_before"),
        )
        return km.DeletedCount(count=count)

    # -- subscriptions -----------------------------------------------------------------------

    def Subscribe(self, request: km.SubscribeRequest, req: Request) -> km.SubscriptionId:
        actor = actor_of(req)
        actor.must_be("userid", request.user_id, user=True)
        actor.must_be("appid", request.app_id, user=False)
        position, at = _position(request.position, "position")
        sub_id = self.store.subscribe(
            request.queue_urn,
            sub_id=request.sub_id if request.HasField("sub_id") else None,
            user_id=request.user_id,
            app_id=request.app_id,
            position=position,
            at=at,
            guard=lambda queue: check_queue(actor, queue, "read"),
        )
        return km.SubscriptionId(sub_id=sub_id)

    def Unsubscribe(self, request: km.SubIdRequest, req: Request) -> empty_pb2.Empty:
        actor = actor_of(req)
        self.store.unsubscribe(request.sub_id, lambda sub, queue: check_sub(actor, sub))
        return empty_pb2.Empty()

    def FetchMessages(self, request: km.FetchMessagesRequest, req: Request) -> km.MessageList:
        actor = actor_of(req)

        def guard(sub: SubInfo, queue: QueueInfo) -> None:
            check_sub(actor, sub)
            check_queue(actor, queue, "read")

        page = self.store.fetch(request.sub_id, request.length, request.auto_commit, guard)
        return _messages(page)

    def CommitAck(self, request: km.CommitAckRequest, req: Request) -> empty_pb2.Empty:
        actor = actor_of(req)
        self.store.commit_ack(
            request.sub_id, request.index, lambda sub, queue: check_sub(actor, sub)
        )
        return empty_pb2.Empty()

    def Seek(self, request: km.SeekRequest, req: Request) -> empty_pb2.Empty:
        actor = actor_of(req)
        position, at = _position(request.index, "index")
        self.store.seek(request.sub_id, position, at, lambda sub, queue: check_sub(actor, sub))
        return empty_pb2.Empty()

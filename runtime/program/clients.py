"""The runtime's service clients: one accessor per service, sync and asyncio.

Upstream's runtime hands out ``get_task_mgr_client()``, ``get_aicc_client()``, ...; here::

    from buckyos.runtime.program import get_task_manager_client, get_async_aicc_client

    tasks = get_task_manager_client(rt)        # rt: a BuckyOSRuntime; default: the
    tasks.cancel_task("t-1")                   # registered one (get_buckyos_api_runtime)
    ai = get_async_aicc_client()               # 120 s per call, as upstream

Each returns the generated stub of the service (``buckyos.generated.<service>_rpc``) on
the runtime, so calls follow the runtime's routes (``program.routes``) and carry its
current token, with the service's default timeout per call (:data:`SERVICE_TIMEOUTS`:
aicc 120 s, the others 15 s; ``timeout=`` overrides).  task-manager's is
:class:`~buckyos.runtime.program.tasks.TaskManagerClient`, the stub with upstream's
conveniences, whose ``wait_for_task_end`` watches kevent through the runtime
(:func:`~buckyos.runtime.program.kevent.kevent_client`).  task-dispatcher is found where
task-manager lives (``program.routes.DERIVED_APIS``).

A client is cheap (it holds the runtime and a timeout) and may be kept: the runtime reads
its token at each call, so a renewed session is used.
"""

from __future__ import annotations

from typing import Final

from buckyos.generated.aicc_rpc import AiccStub, AsyncAiccStub
from buckyos.generated.kmsg_rpc import AsyncKmsgStub, KmsgStub
from buckyos.generated.msg_center_rpc import AsyncMsgCenterStub, MsgCenterStub
from buckyos.generated.repo_service_rpc import AsyncRepoServiceStub, RepoServiceStub
from buckyos.generated.scheduler_rpc import AsyncSchedulerStub, SchedulerStub
from buckyos.generated.task_dispatcher_rpc import AsyncTaskDispatcherStub, TaskDispatcherStub
from buckyos.generated.workflow_rpc import AsyncWorkflowStub, WorkflowStub
from buckyos.runtime.client.kevent import KEventClient
from buckyos.runtime.client.kevent_async import AsyncKEventClient
from buckyos.runtime.program.kevent import akevent_client, kevent_client
from buckyos.runtime.program.runtime import BuckyOSRuntime, get_buckyos_api_runtime
from buckyos.runtime.program.tasks import AsyncTaskManagerClient, TaskManagerClient

__all__ = [
    "DEFAULT_SERVICE_TIMEOUT",
    "SERVICE_TIMEOUTS",
    "get_aicc_client",
    "get_async_aicc_client",
    "get_async_kmsg_client",
    "get_async_msg_center_client",
    "get_async_repo_service_client",
    "get_async_scheduler_client",
    "get_async_task_dispatcher_client",
    "get_async_task_manager_client",
    "get_async_workflow_client",
    "get_kmsg_client",
    "get_msg_center_client",
    "get_repo_service_client",
    "get_scheduler_client",
    "get_task_dispatcher_client",
    "get_task_manager_client",
    "get_workflow_client",
    "service_timeout",
]

DEFAULT_SERVICE_TIMEOUT: Final = 15.0
"""Seconds per call of upstream's service clients (``DEFAULT_KRPC_TIMEOUT_SECS``)."""
SERVICE_TIMEOUTS: Final = {
    "task-manager": DEFAULT_SERVICE_TIMEOUT,
    "task-dispatcher": DEFAULT_SERVICE_TIMEOUT,
    "aicc": 120.0,
    "msg-center": DEFAULT_SERVICE_TIMEOUT,
    "kmsg": DEFAULT_SERVICE_TIMEOUT,
    "repo-service": DEFAULT_SERVICE_TIMEOUT,
    "scheduler": DEFAULT_SERVICE_TIMEOUT,
    "workflow": DEFAULT_SERVICE_TIMEOUT,
}
"""Each service's default seconds per call (upstream-services.md section 1)."""
KEVENT_TIMEOUT: Final = 5.0
"""Seconds ``wait_for_task_end`` gives kevent to acknowledge its stream before polling."""


def service_timeout(api: str, timeout: float | None = None) -> float:
    """``timeout`` when given, else ``api``'s default (:data:`SERVICE_TIMEOUTS`)."""
    if timeout is not None:
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        return timeout
    return SERVICE_TIMEOUTS.get(api, DEFAULT_SERVICE_TIMEOUT)


def _runtime(rt: BuckyOSRuntime | None) -> BuckyOSRuntime:
    return rt if rt is not None else get_buckyos_api_runtime()


def get_task_manager_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> TaskManagerClient:
    """task-manager (15 s), with ``cancel_task``, the runner helpers and
    ``wait_for_task_end`` on the runtime's kevent."""
    runtime = _runtime(rt)

    def kevent() -> KEventClient:
        return kevent_client(runtime, timeout=KEVENT_TIMEOUT)

    return TaskManagerClient(
        runtime, timeout=service_timeout("task-manager", timeout), kevent=kevent
    )


def get_async_task_manager_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> AsyncTaskManagerClient:
    """The asyncio twin of :func:`get_task_manager_client`."""
    runtime = _runtime(rt)

    def kevent() -> AsyncKEventClient:
        return akevent_client(runtime, timeout=KEVENT_TIMEOUT)

    return AsyncTaskManagerClient(
        runtime, timeout=service_timeout("task-manager", timeout), kevent=kevent
    )


def get_task_dispatcher_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> TaskDispatcherStub:
    """task-dispatcher (15 s), reached where task-manager lives."""
    return TaskDispatcherStub(_runtime(rt), timeout=service_timeout("task-dispatcher", timeout))


def get_async_task_dispatcher_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> AsyncTaskDispatcherStub:
    """The asyncio twin of :func:`get_task_dispatcher_client`."""
    return AsyncTaskDispatcherStub(
        _runtime(rt), timeout=service_timeout("task-dispatcher", timeout)
    )


def get_aicc_client(rt: BuckyOSRuntime | None = None, *, timeout: float | None = None) -> AiccStub:
    """aicc (120 s per call)."""
    return AiccStub(_runtime(rt), timeout=service_timeout("aicc", timeout))


def get_async_aicc_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> AsyncAiccStub:
    """The asyncio twin of :func:`get_aicc_client`."""
    return AsyncAiccStub(_runtime(rt), timeout=service_timeout("aicc", timeout))


def get_msg_center_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> MsgCenterStub:
    """msg-center (15 s)."""
    return MsgCenterStub(_runtime(rt), timeout=service_timeout("msg-center", timeout))


def get_async_msg_center_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> AsyncMsgCenterStub:
    """The asyncio twin of :func:`get_msg_center_client`."""
    return AsyncMsgCenterStub(_runtime(rt), timeout=service_timeout("msg-center", timeout))


def get_kmsg_client(rt: BuckyOSRuntime | None = None, *, timeout: float | None = None) -> KmsgStub:
    """kmsg, the durable message queue (15 s)."""
    return KmsgStub(_runtime(rt), timeout=service_timeout("kmsg", timeout))


def get_async_kmsg_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> AsyncKmsgStub:
    """The asyncio twin of :func:`get_kmsg_client`."""
    return AsyncKmsgStub(_runtime(rt), timeout=service_timeout("kmsg", timeout))


def get_repo_service_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> RepoServiceStub:
    """repo-service (15 s)."""
    return RepoServiceStub(_runtime(rt), timeout=service_timeout("repo-service", timeout))


def get_async_repo_service_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> AsyncRepoServiceStub:
    """The asyncio twin of :func:`get_repo_service_client`."""
    return AsyncRepoServiceStub(_runtime(rt), timeout=service_timeout("repo-service", timeout))


def get_scheduler_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> SchedulerStub:
    """scheduler (15 s)."""
    return SchedulerStub(_runtime(rt), timeout=service_timeout("scheduler", timeout))


def get_async_scheduler_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> AsyncSchedulerStub:
    """The asyncio twin of :func:`get_scheduler_client`."""
    return AsyncSchedulerStub(_runtime(rt), timeout=service_timeout("scheduler", timeout))


def get_workflow_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> WorkflowStub:
    """workflow (15 s)."""
    return WorkflowStub(_runtime(rt), timeout=service_timeout("workflow", timeout))


def get_async_workflow_client(
    rt: BuckyOSRuntime | None = None, *, timeout: float | None = None
) -> AsyncWorkflowStub:
    """The asyncio twin of :func:`get_workflow_client`."""
    return AsyncWorkflowStub(_runtime(rt), timeout=service_timeout("workflow", timeout))

"""program: what a program on BuckyOS holds.

Public names (``__all__``, pinned by ``tests/test_facades.py``), each loaded from its
module on first use::

    config     RuntimeConfig and DeviceConfig (upstream's precedence), RuntimeType, the
               environment names a program reads
    runtime    BuckyOSRuntime and the process-wide singleton
    keepalive  KeepAlive, RuntimeHealth: the token keep-alive and what it reports
    login      RetryPolicy of the login
    kevent     kevent_client / akevent_client: the runtime's kevent client (its URL,
               its token); kevent_url
    kevent_mirror  publish_events_to_kevent, KEventMirror: an api's binder events
               published to kevent too (opt-in); KEventPublishQueue: publishing off
               the caller's path
    clients    get_<service>_client / get_async_<service>_client for task-manager,
               task-dispatcher, aicc, msg-center, kmsg, repo-service, scheduler and
               workflow, with each service's timeout (SERVICE_TIMEOUTS)
    tasks      TaskManagerClient / AsyncTaskManagerClient: task-manager's stub with
               cancel_task, the runner helpers and wait_for_task_end

Flows, routes, paths and trust are the runtime's parts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from buckyos.runtime.lazy import lazy_names, lazy_table

if TYPE_CHECKING:
    from buckyos.runtime.program.clients import (
        DEFAULT_SERVICE_TIMEOUT as DEFAULT_SERVICE_TIMEOUT,
        SERVICE_TIMEOUTS as SERVICE_TIMEOUTS,
        get_aicc_client as get_aicc_client,
        get_async_aicc_client as get_async_aicc_client,
        get_async_kmsg_client as get_async_kmsg_client,
        get_async_msg_center_client as get_async_msg_center_client,
        get_async_repo_service_client as get_async_repo_service_client,
        get_async_scheduler_client as get_async_scheduler_client,
        get_async_task_dispatcher_client as get_async_task_dispatcher_client,
        get_async_task_manager_client as get_async_task_manager_client,
        get_async_workflow_client as get_async_workflow_client,
        get_kmsg_client as get_kmsg_client,
        get_msg_center_client as get_msg_center_client,
        get_repo_service_client as get_repo_service_client,
        get_scheduler_client as get_scheduler_client,
        get_task_dispatcher_client as get_task_dispatcher_client,
        get_task_manager_client as get_task_manager_client,
        get_workflow_client as get_workflow_client,
        service_timeout as service_timeout,
    )
    from buckyos.runtime.program.config import (
        APPCLIENT_TOKEN_ENV as APPCLIENT_TOKEN_ENV,
        DeviceConfig as DeviceConfig,
        RuntimeConfig as RuntimeConfig,
        RuntimeType as RuntimeType,
        find_buckyos_root as find_buckyos_root,
        full_app_id as full_app_id,
        load_config as load_config,
        session_token_env_key as session_token_env_key,
    )
    from buckyos.runtime.program.keepalive import (
        KeepAlive as KeepAlive,
        RuntimeHealth as RuntimeHealth,
    )
    from buckyos.runtime.program.kevent import (
        akevent_client as akevent_client,
        kevent_client as kevent_client,
        kevent_url as kevent_url,
    )
    from buckyos.runtime.program.kevent_mirror import (
        KEventMirror as KEventMirror,
        KEventPublishQueue as KEventPublishQueue,
        publish_events_to_kevent as publish_events_to_kevent,
    )
    from buckyos.runtime.program.login import RetryPolicy as RetryPolicy
    from buckyos.runtime.program.runtime import (
        BuckyOSRuntime as BuckyOSRuntime,
        get_buckyos_api_runtime as get_buckyos_api_runtime,
        init_buckyos_api_runtime as init_buckyos_api_runtime,
        is_buckyos_api_runtime_set as is_buckyos_api_runtime_set,
        reset_buckyos_api_runtime as reset_buckyos_api_runtime,
        set_buckyos_api_runtime as set_buckyos_api_runtime,
    )
    from buckyos.runtime.program.tasks import (
        AsyncTaskManagerClient as AsyncTaskManagerClient,
        TaskManagerClient as TaskManagerClient,
    )

# module -> the names it lends the facade, loaded on first use (PEP 562)
_LAZY: Final = lazy_table(
    {
        ".clients": (
            "DEFAULT_SERVICE_TIMEOUT SERVICE_TIMEOUTS service_timeout "
            "get_task_manager_client get_async_task_manager_client "
            "get_task_dispatcher_client get_async_task_dispatcher_client "
            "get_aicc_client get_async_aicc_client get_msg_center_client "
            "get_async_msg_center_client get_kmsg_client get_async_kmsg_client "
            "get_repo_service_client get_async_repo_service_client get_scheduler_client "
            "get_async_scheduler_client get_workflow_client get_async_workflow_client"
        ),
        ".config": (
            "APPCLIENT_TOKEN_ENV DeviceConfig RuntimeConfig RuntimeType find_buckyos_root "
            "full_app_id load_config session_token_env_key"
        ),
        ".keepalive": "KeepAlive RuntimeHealth",
        ".kevent": "akevent_client kevent_client kevent_url",
        ".kevent_mirror": "KEventMirror KEventPublishQueue publish_events_to_kevent",
        ".login": "RetryPolicy",
        ".runtime": (
            "BuckyOSRuntime get_buckyos_api_runtime init_buckyos_api_runtime "
            "is_buckyos_api_runtime_set reset_buckyos_api_runtime set_buckyos_api_runtime"
        ),
        ".tasks": "AsyncTaskManagerClient TaskManagerClient",
    }
)


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = sorted(_LAZY)

"""Where a program keeps its files and settings (upstream ``get_data_folder``,
``get_my_settings_path``, ``get_my_sys_config_path``): by runtime type, user and app."""

from __future__ import annotations

from pathlib import Path

from buckyos.runtime.errors import ConfigError, ReasonError
from buckyos.runtime.program.config import RuntimeType

__all__ = ["app_folder", "settings_path", "sys_config_path"]


def _unsupported(runtime_type: RuntimeType, what: str) -> ReasonError:
    return ReasonError(f"NotSupported: runtime_type {runtime_type.value} does not support {what}")


def app_folder(
    runtime_type: RuntimeType, root: Path, user_id: str | None, app_id: str, kind: str
) -> Path:
    """``<root>/<kind>/<user>/<app>`` (AppService) or ``<root>/<kind>/<app>``; an
    AppClient has none."""
    if runtime_type is RuntimeType.APP_CLIENT:
        raise _unsupported(runtime_type, f"get_{kind}_folder")
    if runtime_type is RuntimeType.APP_SERVICE:
        if not user_id:
            raise ConfigError(f"AppService {kind} folder needs the owner user id")
        return root / kind / user_id / app_id
    return root / kind / app_id


def sys_config_path(runtime_type: RuntimeType, user_id: str | None, app_id: str, name: str) -> str:
    """``users/<user>/apps/<app>/<name>`` (AppClient/AppService) or
    ``services/<app>/<name>``."""
    if runtime_type in (RuntimeType.APP_CLIENT, RuntimeType.APP_SERVICE):
        return f"users/{user_id or ''}/apps/{app_id}/{name}"
    return f"services/{app_id}/{name}"


def settings_path(runtime_type: RuntimeType, user_id: str | None, app_id: str) -> str:
    """The system_config key of the program's settings; an AppClient has none."""
    if runtime_type is RuntimeType.APP_CLIENT:
        raise _unsupported(runtime_type, "get_my_settings_path")
    return sys_config_path(runtime_type, user_id, app_id, "settings")

# mypy: disable-error-code="misc,type-arg,no-untyped-def"
from buckyos.generated import options_pb2 as _options_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LoginByJwtRequest(_message.Message):
    __slots__ = ("type", "jwt", "app_instance_id")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    JWT_FIELD_NUMBER: _ClassVar[int]
    APP_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    type: str
    jwt: str
    app_instance_id: str
    def __init__(self, type: _Optional[str] = ..., jwt: _Optional[str] = ..., app_instance_id: _Optional[str] = ...) -> None: ...

class TokenPair(_message.Message):
    __slots__ = ("session_token", "refresh_token")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    refresh_token: str
    def __init__(self, session_token: _Optional[str] = ..., refresh_token: _Optional[str] = ...) -> None: ...

class LoginByPasswordRequest(_message.Message):
    __slots__ = ("type", "username", "password", "appid", "app_instance_id", "login_nonce", "source_url")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    APPID_FIELD_NUMBER: _ClassVar[int]
    APP_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    LOGIN_NONCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_URL_FIELD_NUMBER: _ClassVar[int]
    type: str
    username: str
    password: str
    appid: str
    app_instance_id: str
    login_nonce: int
    source_url: str
    def __init__(self, type: _Optional[str] = ..., username: _Optional[str] = ..., password: _Optional[str] = ..., appid: _Optional[str] = ..., app_instance_id: _Optional[str] = ..., login_nonce: _Optional[int] = ..., source_url: _Optional[str] = ...) -> None: ...

class UserInfo(_message.Message):
    __slots__ = ("show_name", "user_id", "state", "user_type")
    SHOW_NAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    USER_TYPE_FIELD_NUMBER: _ClassVar[int]
    show_name: str
    user_id: str
    state: str
    user_type: str
    def __init__(self, show_name: _Optional[str] = ..., user_id: _Optional[str] = ..., state: _Optional[str] = ..., user_type: _Optional[str] = ...) -> None: ...

class LoginByPasswordResult(_message.Message):
    __slots__ = ("user_info", "session_token", "refresh_token")
    USER_INFO_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user_info: UserInfo
    session_token: str
    refresh_token: str
    def __init__(self, user_info: _Optional[_Union[UserInfo, _Mapping]] = ..., session_token: _Optional[str] = ..., refresh_token: _Optional[str] = ...) -> None: ...

class SudoByPasswordRequest(_message.Message):
    __slots__ = ("username", "password", "appid", "app_instance_id", "aud", "login_nonce")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    APPID_FIELD_NUMBER: _ClassVar[int]
    APP_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    AUD_FIELD_NUMBER: _ClassVar[int]
    LOGIN_NONCE_FIELD_NUMBER: _ClassVar[int]
    username: str
    password: str
    appid: str
    app_instance_id: str
    aud: str
    login_nonce: int
    def __init__(self, username: _Optional[str] = ..., password: _Optional[str] = ..., appid: _Optional[str] = ..., app_instance_id: _Optional[str] = ..., aud: _Optional[str] = ..., login_nonce: _Optional[int] = ...) -> None: ...

class SudoByPasswordResult(_message.Message):
    __slots__ = ("session_token",)
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    def __init__(self, session_token: _Optional[str] = ...) -> None: ...

class RefreshTokenRequest(_message.Message):
    __slots__ = ("refresh_token",)
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    refresh_token: str
    def __init__(self, refresh_token: _Optional[str] = ...) -> None: ...

class VerifyTokenRequest(_message.Message):
    __slots__ = ("session_token", "appid", "app_instance_id")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    APPID_FIELD_NUMBER: _ClassVar[int]
    APP_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    appid: str
    app_instance_id: str
    def __init__(self, session_token: _Optional[str] = ..., appid: _Optional[str] = ..., app_instance_id: _Optional[str] = ...) -> None: ...

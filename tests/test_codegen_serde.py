"""Codegen refuses serde declarations that cannot travel, with ``file:line: what to fix``
(the line of the offending oneof, field, enum value or option), and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from buckyos.codegen import driver

ROOT = Path(__file__).resolve().parent.parent

HEAD = """syntax = "proto3";
package pkg;
import "buckyos/options.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/struct.proto";
"""

SERVICE = """service Svc {
  option (buckyos.api) = { name: "svc" derive_krpc_names: true };
  rpc Get(Req) returns (Resp);
}
"""

# name -> (the rest of the file, what the error says); the offending line ends with // HERE.
BAD: dict[str, tuple[str, str]] = {
    "tag collides with a variant's field": (
        """message App { string kind = 1; string app_id = 2; }
message Req {
  oneof executor {
    option (buckyos.tagged) = { tag: "kind" };
    App app = 1;  // HERE
  }
}
message Resp {}
""",
        "the tag key 'kind' collides with field pkg.App.kind of variant App; rename one",
    ),
    "flatten of a scalar": (
        """message Req { string task_id = 1 [(buckyos.json).flatten = true]; }  // HERE
message Resp {}
""",
        "pkg.Req.task_id: flatten needs a singular message field",
    ),
    "flatten of a repeated message": (
        """message Env { string task_id = 1; }
message Req { repeated Env envs = 1 [(buckyos.json).flatten = true]; }  // HERE
message Resp {}
""",
        "pkg.Req.envs: flatten needs a singular message field",
    ),
    "flattened key clash": (
        """message Env { string task_id = 1; uint64 runner_epoch = 2; }
message Req {
  string task_id = 1;
  Env envelope = 2 [(buckyos.json).flatten = true];  // HERE
}
message Resp {}
""",
        "pkg.Req.envelope: the flattened key 'task_id' (envelope.task_id) is also written by "
        "task_id; rename one",
    ),
    "field after a flattened one clashes": (
        """message Env { string task_id = 1; }
message Req {
  Env envelope = 1 [(buckyos.json).flatten = true];
  string id = 2 [(buckyos.json).json = "task_id"];  // HERE
}
message Resp {}
""",
        "pkg.Req.id: the key 'task_id' is also written by the flattened envelope.task_id",
    ),
    "flatten of a Struct": (
        """message Req { google.protobuf.Struct meta = 1 [(buckyos.json).flatten = true]; }  // HERE
message Resp {}
""",
        "flatten of google.protobuf.Struct is not supported",
    ),
    "bytes as array on a string": (
        """message Req { string payload = 1 [(buckyos.json).bytes_as_array = true]; }  // HERE
message Resp {}
""",
        "pkg.Req.payload: bytes_as_array is for a bytes field; drop it here",
    ),
    "tagged oneof that says nothing": (
        """message Req {
  oneof position {  // HERE
    option (buckyos.tagged) = { rename_all: SNAKE_CASE };
    uint64 at = 1;
  }
}
message Resp {}
""",
        'pkg.Req.position: say how the oneof travels: tag: "kind" (internally tagged)',
    ),
    "external with a tag": (
        """message Req {
  oneof position {  // HERE
    option (buckyos.tagged) = { external: true tag: "kind" };
    uint64 at = 1;
  }
}
message Resp {}
""",
        "pkg.Req.position: external: true takes no tag or content; drop one",
    ),
    "internally tagged scalar variant": (
        """message Req {
  oneof position {
    option (buckyos.tagged) = { tag: "kind" };
    uint64 at = 1;  // HERE
  }
}
message Resp {}
""",
        "variant At is a scalar; an internally tagged variant must be a message of your own",
    ),
    "fields beside a tagged oneof": (
        """message Req {
  string name = 1;
  oneof position {  // HERE
    option (buckyos.tagged) = { external: true };
    uint64 at = 2;
  }
}
message Resp {}
""",
        "pkg.Req.position: a tagged oneof must be its message's only content; move name into",
    ),
    "two variants with one name": (
        """message Req {
  oneof position {
    option (buckyos.tagged) = { external: true };
    uint64 at = 1;
    uint32 other = 2 [(buckyos.json).json = "At"];  // HERE
  }
}
message Resp {}
""",
        "pkg.Req.position: variant name 'At' is used by both at and other",
    ),
    "strip_prefix on a value without it": (
        """enum Phase {
  option (buckyos.enum_json) = { strip_prefix: true rename_all: PASCAL_CASE };
  PHASE_UNSPECIFIED = 0;
  RUNNING = 1;  // HERE
}
message Req { Phase phase = 1; }
message Resp {}
""",
        "pkg.Phase.RUNNING: strip_prefix wants every value to start with 'PHASE_'",
    ),
    "default and required": (
        """message Req {
  uint32 attempts = 1 [(buckyos.field) = { required: true default: true }];  // HERE
}
message Resp {}
""",
        "pkg.Req.attempts (buckyos.field).default: the field is both required and default",
    ),
    "default on an optional field": (
        """message Req { optional uint32 attempts = 1 [(buckyos.field).default = true]; }  // HERE
message Resp {}
""",
        "pkg.Req.attempts (buckyos.field).default: the field is `optional` or in a oneof, "
        "which may always be missing",
    ),
    "default on a message field": (
        """message Env { string task_id = 1; }
message Req { Env env = 1 [(buckyos.field).default = true]; }  // HERE
message Resp {}
""",
        "pkg.Req.env (buckyos.field).default: the field is a message field",
    ),
    "default on a list": (
        """message Req {}
message Resp { repeated string tags = 1 [(buckyos.field).default = true]; }  // HERE
""",
        "pkg.Resp.tags (buckyos.field).default: the field is a list or map",
    ),
    "omit_empty on a scalar": (
        """message Req { string tag = 1 [(buckyos.json).omit_empty = true]; }  // HERE
message Resp {}
""",
        "pkg.Req.tag: omit_empty is for a repeated or map field",
    ),
    "two enum values with one JSON name": (
        """enum Phase {
  option (buckyos.enum_json) = { strip_prefix: true rename_all: SNAKE_CASE };
  PHASE_UNSPECIFIED = 0;
  PHASE_RUNNING = 1;
  PHASE_GOING = 2 [(buckyos.value).json = "running"];  // HERE
}
message Req { Phase phase = 1; }
message Resp {}
""",
        "pkg.Phase: JSON name 'running' is used by both PHASE_RUNNING and PHASE_GOING",
    ),
}


def _generate(tmp_path: Path, text: str) -> tuple[int, Path]:
    proto_dir = tmp_path / "protos" / "pkg"
    proto_dir.mkdir(parents=True)
    (proto_dir / "bad.proto").write_text(text)
    out = tmp_path / "out"
    out.mkdir()
    code = driver.main(
        [
            "--proto-root",
            str(tmp_path / "protos"),
            "--include",
            str(ROOT / "proto"),
            "--out",
            str(out),
            "--map",
            "pkg/=pkg",
            str(proto_dir / "bad.proto"),
        ]
    )
    return code, out


def _line_of_here(text: str) -> int:
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if line.endswith("// HERE")]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_serde_declarations(
    case: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    rest, expected = BAD[case]
    text = HEAD + SERVICE + rest
    code, out = _generate(tmp_path, text)
    err = capfd.readouterr().err
    assert code == 1, err
    assert f"pkg/bad.proto:{_line_of_here(text)}: " in err, err
    assert expected in err, err
    assert list(out.iterdir()) == []


SHAPES: dict[str, tuple[str, str]] = {
    "envelope params": (
        "rpc Get(Req) returns (Resp) { option (buckyos.verb) = { params: ENVELOPE }; }  // HERE",
        "params ENVELOPE for pkg.Req: ENVELOPE is a result shape; use it on result",
    ),
    "envelope with an ok field": (
        "rpc Get(Req) returns (Ok) { option (buckyos.verb) = { result: ENVELOPE }; }  // HERE",
        "the envelope writes its own `ok`; field ok must use another key",
    ),
    "tagged result unwrapped": (
        "rpc Get(Req) returns (Pick) { option (buckyos.verb) = { result: UNWRAP }; }  // HERE",
        "result UNWRAP for pkg.Pick: the message is a tagged oneof (its JSON is the variant); "
        "use OBJECT",
    ),
}


@pytest.mark.parametrize("case", sorted(SHAPES))
def test_bad_shapes(case: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    rpc, expected = SHAPES[case]
    text = (
        HEAD
        + 'service Svc {\n  option (buckyos.api) = { name: "svc" derive_krpc_names: true };\n'
        + f"  {rpc}\n}}\n"
        + "message Req { string key = 1; }\nmessage Resp { string key = 1; }\n"
        + "message Ok { bool ok = 1; }\n"
        + "message Pick { oneof p { option (buckyos.tagged) = { external: true }; "
        + "uint64 at = 1; } }\n"
    )
    code, out = _generate(tmp_path, text)
    err = capfd.readouterr().err
    assert code == 1, err
    assert f"pkg/bad.proto:{_line_of_here(text)}: " in err, err
    assert expected in err, err
    assert list(out.iterdir()) == []


ERRORS: dict[str, tuple[str, str]] = {
    "a colon in a code": (
        'errors: { code: "task:not_found" }',
        "Svc: errors[0]: code 'task:not_found' must be non-empty text without ':'",
    ),
    "an empty code": ("errors: { kind: NO_PERMISSION }", "Svc: errors[0]: code '' must be"),
    "a code listed twice": (
        'errors: { code: "x_y" } errors: { code: "x_y" name: "Other" }',
        "Svc: errors[1]: code 'x_y' is listed twice for ReasonError",
    ),
    "two codes, one class name": (
        'errors: { code: "x_y" } errors: { code: "x y" kind: NO_PERMISSION }',
        "Svc: errors[1]: class name 'XYError' is already declared at pkg/bad.proto:",
    ),
    "a bad class name": (
        'errors: { code: "x" name: "not a class" }',
        "Svc: errors[0]: class name 'not a class' is not a Python class name; set name",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_bad_error_codes(case: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    entries, expected = ERRORS[case]
    text = (
        HEAD
        + "service Svc {\n"
        + f'  option (buckyos.api) = {{ name: "svc" derive_krpc_names: true {entries} }};  // HERE\n'
        + "  rpc Get(Req) returns (Req);\n}\nmessage Req { string key = 1; }\n"
    )
    code, out = _generate(tmp_path, text)
    err = capfd.readouterr().err
    assert code == 1, err
    assert f"pkg/bad.proto:{_line_of_here(text)}: " in err, err
    assert expected in err, err
    assert list(out.iterdir()) == []


VERB = "option (buckyos.verb) = "
ALIASES: dict[str, tuple[str, str]] = {
    "an alias that is another verb's name": (
        f'rpc Get(Req) returns (Req) {{ {VERB}{{ krpc: "get" }}; }}\n'
        f'  rpc Put(Req) returns (Req) {{ {VERB}{{ krpc: "put" aliases: "get" }}; }}  // HERE',
        "Svc.Put: alias 'get' is already used at line",
    ),
    "an alias that is another verb's alias": (
        f'rpc Get(Req) returns (Req) {{ {VERB}{{ krpc: "x.get" aliases: "get" }}; }}\n'
        f'  rpc Put(Req) returns (Req) {{ {VERB}{{ krpc: "x.put" aliases: "get" }}; }}  // HERE',
        "Svc.Put: alias 'get' is already used at line",
    ),
    "a verb named like another's alias": (
        f'rpc Get(Req) returns (Req) {{ {VERB}{{ krpc: "x.get" aliases: "get" }}; }}\n'
        f'  rpc Put(Req) returns (Req) {{ {VERB}{{ krpc: "get" }}; }}  // HERE',
        "Svc.Put: kRPC name 'get' is already used at line",
    ),
    "an alias repeating its own name": (
        f'rpc Get(Req) returns (Req) {{ {VERB}{{ krpc: "get" aliases: "get" }}; }}  // HERE',
        "Svc.Get: alias 'get' repeats the verb's kRPC name or another alias; drop it",
    ),
    "an alias that is no method name": (
        f'rpc Get(Req) returns (Req) {{ {VERB}{{ krpc: "get" aliases: "get it" }}; }}  // HERE',
        "Svc.Get: alias 'get it' is not a valid kRPC method name",
    ),
}


@pytest.mark.parametrize("case", sorted(ALIASES))
def test_bad_verb_aliases(case: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    rpcs, expected = ALIASES[case]
    text = (
        HEAD
        + 'service Svc {\n  option (buckyos.api) = { name: "svc" };\n'
        + f"  {rpcs}\n}}\nmessage Req {{ string key = 1; }}\n"
    )
    code, out = _generate(tmp_path, text)
    err = capfd.readouterr().err
    assert code == 1, err
    assert f"pkg/bad.proto:{_line_of_here(text)}: " in err, err
    assert expected in err, err
    assert list(out.iterdir()) == []


def test_a_good_serde_contract_generates(tmp_path: Path) -> None:
    text = (
        HEAD
        + SERVICE
        + """message Env { string task_id = 1; }
message Req {
  oneof pick {
    option (buckyos.tagged) = { tag: "kind" content: "value" rename_all: SNAKE_CASE };
    uint64 at = 1;
    google.protobuf.Empty none = 2;
  }
}
message Resp { Env env = 1 [(buckyos.json).flatten = true]; bytes raw = 2 [(buckyos.json).bytes_as_array = true]; }
"""
    )
    code, out = _generate(tmp_path, text)
    assert code == 0
    assert (out / "bad_rpc.py").exists()


@pytest.mark.parametrize(
    ("aliases", "expected"),
    [
        ('aliases: "svc"', "Svc: api alias 'svc' repeats the api's name or another alias"),
        ('aliases: ["a", "a"]', "Svc: api alias 'a' repeats the api's name or another alias"),
        ('aliases: "a/b"', "Svc: api alias 'a/b' is not a valid api name"),
    ],
)
def test_bad_api_aliases(
    aliases: str, expected: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    text = (
        HEAD
        + "service Svc {\n"
        + f'  option (buckyos.api) = {{ name: "svc" derive_krpc_names: true {aliases} }};  // HERE\n'
        + "  rpc Get(Req) returns (Req);\n}\nmessage Req { string key = 1; }\n"
    )
    code, out = _generate(tmp_path, text)
    err = capfd.readouterr().err
    assert code == 1, err
    assert f"pkg/bad.proto:{_line_of_here(text)}: " in err, err
    assert expected in err, err
    assert list(out.iterdir()) == []


# UNWRAP_OR_NULL: the only field, bare, or null when unset; codegen refuses what cannot
# tell null from a value (over gRPC the field's presence carries the null).
OR_NULL = "option (buckyos.verb) = { result: UNWRAP_OR_NULL }"
UNWRAP_OR_NULL: dict[str, tuple[str, str]] = {
    "on params": (
        "rpc Get(Maybe) returns (Maybe) { option (buckyos.verb) = { params: UNWRAP_OR_NULL }; }",
        "params UNWRAP_OR_NULL for pkg.Maybe: UNWRAP_OR_NULL is a result shape; use UNWRAP",
    ),
    "a field without presence": (
        f"rpc Get(Maybe) returns (Plain) {{ {OR_NULL}; }}",
        "result UNWRAP_OR_NULL for pkg.Plain: field did has no presence; declare it `optional`",
    ),
    "two fields": (
        f"rpc Get(Maybe) returns (Two) {{ {OR_NULL}; }}",
        "result UNWRAP_OR_NULL for pkg.Two: the message must have exactly one field (the "
        "value), it has 2",
    ),
    "a list": (
        f"rpc Get(Maybe) returns (Many) {{ {OR_NULL}; }}",
        "result UNWRAP_OR_NULL for pkg.Many: field dids is a list or map, whose empty value is "
        "[] or {}, not null; use UNWRAP",
    ),
    "a Value": (
        f"rpc Get(Maybe) returns (Val) {{ {OR_NULL}; }}",
        "result UNWRAP_OR_NULL for pkg.Val: field value is a google.protobuf.Value, whose own "
        "null would read back as unset",
    ),
    "a flattened field": (
        f"rpc Get(Maybe) returns (Flat) {{ {OR_NULL}; }}",
        "result UNWRAP_OR_NULL for pkg.Flat: field doc is flattened; the bare value is the "
        "field itself, drop (buckyos.json).flatten",
    ),
}
OR_NULL_MESSAGES = """message Maybe { optional string did = 1; }
message Plain { string did = 1; }
message Two { optional string a = 1; optional string b = 2; }
message Many { repeated string dids = 1; }
message Val { google.protobuf.Value value = 1; }
message Doc { string name = 1; }
message Flat { Doc doc = 1 [(buckyos.json).flatten = true]; }
message Obj { google.protobuf.Struct msg = 1; }
"""


@pytest.mark.parametrize("case", sorted(UNWRAP_OR_NULL))
def test_bad_unwrap_or_null(case: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    rpc, expected = UNWRAP_OR_NULL[case]
    text = (
        HEAD
        + 'service Svc {\n  option (buckyos.api) = { name: "svc" derive_krpc_names: true };\n'
        + f"  {rpc}  // HERE\n}}\n"
        + OR_NULL_MESSAGES
    )
    code, out = _generate(tmp_path, text)
    err = capfd.readouterr().err
    assert code == 1, err
    assert f"pkg/bad.proto:{_line_of_here(text)}: " in err, err
    assert expected in err, err
    assert list(out.iterdir()) == []


def test_unwrap_or_null_stubs_answer_none(tmp_path: Path) -> None:
    """An optional scalar, a message and a Struct may be UNWRAP_OR_NULL: the stubs return
    ``X | None`` through ``_call_or_none``, the servicer may return None."""
    text = (
        HEAD
        + 'service Svc {\n  option (buckyos.api) = { name: "svc" derive_krpc_names: true };\n'
        + f"  rpc GetDid(Maybe) returns (Maybe) {{ {OR_NULL}; }}\n"
        + f"  rpc GetDoc(Maybe) returns (Wrapped) {{ {OR_NULL}; }}\n"
        + f"  rpc GetObj(Maybe) returns (Obj) {{ {OR_NULL}; }}\n}}\n"
        + OR_NULL_MESSAGES
        + "message Wrapped { Doc doc = 1; }\n"
    )
    code, out = _generate(tmp_path, text)
    assert code == 0
    source = (out / "bad_rpc.py").read_text()
    for name, message in (("GetDid", "Maybe"), ("GetDoc", "Wrapped"), ("GetObj", "Obj")):
        assert f"    ) -> _pkg_bad_pb2.{message} | None:" in source, name
        assert source.count(f"_call_or_none(SVC_{name.upper().replace('GET', 'GET_')}") == 2
    assert "result_shape=JsonShape.UNWRAP_OR_NULL" in source
    assert "-> _pkg_bad_pb2.Obj | Awaitable[_pkg_bad_pb2.Obj | None] | None:" in source

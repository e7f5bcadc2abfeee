"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.etcd import EtcdMember, require_etcd


@pytest.fixture(scope="module")
def etcd_member(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdMember]:
    """One real etcd member on free loopback ports for the module (stopped after it)."""
    member = EtcdMember(require_etcd(), tmp_path_factory.mktemp("etcd") / "member")
    member.start()
    try:
        yield member
    finally:
        member.stop()

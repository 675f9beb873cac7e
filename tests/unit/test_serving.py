"""What ``midway serve`` refuses before starting any worker (``midway.serving``)."""

from __future__ import annotations

import socket

import pytest

from midway.serving import ServeError, serve


def test_several_workers_need_a_fixed_port() -> None:
    with pytest.raises(ServeError, match="fixed port"):
        serve("127.0.0.1", 0, 2)


def test_workers_must_be_at_least_one() -> None:
    with pytest.raises(ServeError, match="at least 1"):
        serve("127.0.0.1", 8000, 0)


def test_an_address_in_use_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{port}"):
            serve("127.0.0.1", port, 2)

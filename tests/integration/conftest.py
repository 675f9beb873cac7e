"""Fixtures of the integration tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.support_network import Network, build_network


@pytest.fixture
def network(make_actor: Any) -> Network:
    """The standard network with 10 units of every SKU at the provider's facility."""
    return build_network(make_actor)

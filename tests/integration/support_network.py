"""The small network most integration tests start from: one merchant, one US provider with an
active classic semi-managed agreement, a merchant-run studio, SKUs and stock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SKUS = {
    "TEE-BLK-M": ["apparel"],
    "MUG-GLD": ["premium", "fragile"],
    "CANDLE": ["home"],
    "GIFT-BOX": [],
}


@dataclass
class Network:
    merchant: Any
    provider: Any
    agreement_id: str

    def order(
        self,
        external_id: str = "1001",
        lines: list[tuple[str, int]] | None = None,
        country: str = "US",
        **extra: Any,
    ) -> dict[str, Any]:
        return {
            "channel": extra.pop("channel", "web"),
            "external_id": external_id,
            "ship_to": {
                "name": "Ada Lane",
                "address1": "1 Main St",
                "city": "Austin",
                "postal_code": "78701",
                "country": country,
            },
            "lines": [{"sku": s, "quantity": q} for s, q in (lines or [("TEE-BLK-M", 2)])],
            **extra,
        }

    def stock(self, sku: str, quantity: int, facility: str = "KS-CHI") -> None:
        r = self.provider.post(
            "/v1/inventory/adjustments",
            json={
                "facility_code": facility,
                "sku": sku,
                "quantity": quantity,
                "reason": "receipt",
                "kind": "receipt",
                "merchant_id": self.merchant.id,
            },
        )
        assert r.status_code == 201, r.text

    def place(self, *args: Any, **kw: Any) -> dict[str, Any]:
        r = self.merchant.post("/v1/orders", json=self.order(*args, **kw))
        assert r.status_code == 201, r.text
        placed: dict[str, Any] = r.json()
        return placed


def build_network(
    make_actor: Any,
    *,
    stock: int = 10,
    template: str = "classic_semi_managed",
    auto_submit: bool = True,
    data_sharing: dict[str, Any] | None = None,
) -> Network:
    merchant = make_actor("merchant", "Northwind Goods")
    provider = make_actor("provider", "Keystone Logistics")
    r = provider.post(
        "/v1/facilities",
        json={
            "code": "KS-CHI",
            "name": "Chicago DC",
            "country": "US",
            "timezone": "America/Chicago",
            "cutoff_local_time": "14:00",
        },
    )
    assert r.status_code == 201, r.text
    r = merchant.post(
        "/v1/agreements",
        json={
            "provider_id": provider.id,
            "facility_codes": ["KS-CHI"],
            "template": template,
            "auto_submit": auto_submit,
            **({"data_sharing": data_sharing} if data_sharing is not None else {}),
        },
    )
    assert r.status_code == 201, r.text
    agreement_id = r.json()["id"]
    r = provider.post(f"/v1/agreements/{agreement_id}/accept")
    assert r.status_code == 200, r.text
    for sku, tags in SKUS.items():
        r = merchant.put(
            f"/v1/skus/{sku}", json={"name": sku.title(), "weight_g": 300, "tags": tags}
        )
        assert r.status_code == 200, r.text
    network = Network(merchant, provider, agreement_id)
    if stock:
        for sku in SKUS:
            network.stock(sku, stock)
    return network

"""Midway: a shared record for semi-managed fulfillment between a merchant and its 3PLs."""

__version__ = "0.1.0"

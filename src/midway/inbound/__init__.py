"""Inbound shipments (ASNs): stock on its way to a facility, its arrival and its receipt."""

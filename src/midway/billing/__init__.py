"""Billing: rate cards metered into draft invoices, and audits of the provider's invoices."""

"""Outbound webhooks: endpoints, fan-out of the outbox, signed delivery with retries."""

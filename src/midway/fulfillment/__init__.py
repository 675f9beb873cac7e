"""fulfillment."""

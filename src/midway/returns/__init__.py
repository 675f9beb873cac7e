"""Returns (RMAs): authorization, receipt, inspection, disposition."""

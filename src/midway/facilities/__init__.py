"""facilities."""

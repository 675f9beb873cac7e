"""Parties (merchants and providers), their API keys and the principal a request runs as."""

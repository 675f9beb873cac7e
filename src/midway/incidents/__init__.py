"""Incidents: exceptions with an owner from the matrix, a shared thread and who pays."""

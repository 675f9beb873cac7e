"""SLA clocks, terms, business calendars and monthly scorecards."""

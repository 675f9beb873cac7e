"""KPIs: facts kept from events and imported history, ratios and durations over them."""

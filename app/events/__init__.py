"""Event listings: talks, conferences and webinars, their zones and lists, the upcoming-events
section's choice of events and the iCalendar feed."""

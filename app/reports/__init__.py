"""Reports: what happened to each send (funnel, timeline, links, problems),
list growth, our own click/open tracking, retention of per-recipient events,
and the SVG charts that draw them."""

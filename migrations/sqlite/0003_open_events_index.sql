-- The open-events summary (the webhook backlog bound, counted every second by default,
-- and the inbox gauges on /metrics) reads only this index: without it, each count
-- scanned the whole inbox, finished events and their bodies included. The predicate is
-- spelled exactly as in the query, so the planner can see that the index covers it.
CREATE INDEX inbox_events_open ON inbox_events (status, received_at)
    WHERE status IN ('pending', 'processing', 'retrying', 'dead');

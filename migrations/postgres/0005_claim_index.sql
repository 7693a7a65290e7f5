-- Claims take waiting events in receive order and stop at the batch size. Without an
-- index in that order over waiting events alone, the planner walked the primary key
-- from the oldest row and filtered out every finished event on the way (it assumes
-- waiting rows are spread evenly, but they are the newest), so each claim grew with the
-- history kept. This index holds only waiting events, in `seq` order, so a claim reads
-- as many entries as it takes. Its predicate is spelled exactly as in the claim, so the
-- planner can see that the index covers it.
CREATE INDEX inbox_events_claimable ON inbox_events (seq)
    WHERE status IN ('pending', 'retrying');

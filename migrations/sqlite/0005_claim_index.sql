-- Claims take waiting events in receive order and stop at the batch size. Without an
-- index in that order over waiting events alone, SQLite scanned the whole inbox for
-- each claim (or, once analyzed, read and sorted every due event), so each claim grew
-- with the history kept. This index holds only waiting events, in `seq` order, so a
-- claim reads as many entries as it takes; the claim names it (`INDEXED BY`), so a
-- change of statistics cannot take it away. Its predicate is spelled exactly as in the
-- claim, which SQLite requires to use a partial index.
CREATE INDEX inbox_events_claimable ON inbox_events (seq)
    WHERE status IN ('pending', 'retrying');
-- The claim was its only reader; every waiting event's insert and status change paid
-- for it on the one write connection.
DROP INDEX inbox_events_due;

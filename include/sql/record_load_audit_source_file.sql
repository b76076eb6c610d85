-- What the server said of the file the month was loaded from, on the run's audit row: a re-published month has
-- another ETag (nyc_taxi/republished.py).
UPDATE {schema}.load_audit
SET source_etag = %(source_etag)s, source_last_modified = %(source_last_modified)s
WHERE color = %(color)s AND source_month = %(source_month)s AND run_id = %(run_id)s;

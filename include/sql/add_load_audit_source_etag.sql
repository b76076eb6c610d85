-- Audit tables made before live sources: what the server said of the file loaded (its ETag and Last-Modified), so a
-- re-published month is told apart. Run only when the columns are missing, as add_load_audit_rows_flagged.sql.
ALTER TABLE {schema}.load_audit
    ADD COLUMN IF NOT EXISTS source_etag text,
    ADD COLUMN IF NOT EXISTS source_last_modified text;

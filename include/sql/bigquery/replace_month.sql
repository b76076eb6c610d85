-- The month's rows replaced in one transaction, with the record of which GCS write they came from: other
-- months, and the month itself if this fails, untouched.
BEGIN TRANSACTION;
DELETE FROM {table} WHERE source_month = @source_month;
INSERT INTO {table} ({columns}, source_month)
SELECT {select_list}, @source_month FROM {staging_table};
DELETE FROM {audit_table} WHERE source_month = @source_month;
INSERT INTO {audit_table} (source_month, manifest_generation, row_count, loaded_at)
SELECT @source_month, @manifest_generation, COUNT(*), CURRENT_TIMESTAMP() FROM {staging_table};
COMMIT TRANSACTION;

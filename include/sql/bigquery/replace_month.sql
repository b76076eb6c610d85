-- The month's rows replaced in one transaction: other months, and the month itself if this fails, untouched.
BEGIN TRANSACTION;
DELETE FROM {table} WHERE source_month = @source_month;
INSERT INTO {table} ({columns}, source_month)
SELECT {select_list}, @source_month FROM {staging_table};
COMMIT TRANSACTION;

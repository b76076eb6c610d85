-- The latest load of each month of each color, for the coverage page.
SELECT DISTINCT ON (color, source_month)
    color, to_char(source_month, 'YYYY-MM'), rows_loaded, rows_dropped, loaded_at, run_id, rows_read
FROM {schema}.load_audit
ORDER BY color, source_month, loaded_at DESC;

-- For each month of a color, the file its latest load read: URL, ETag and size, from the audit rows.
SELECT DISTINCT ON (source_month)
       to_char(source_month, 'YYYY-MM') AS month, source_url, source_etag, bytes_downloaded
FROM {schema}.load_audit
WHERE color = %(color)s
ORDER BY source_month, loaded_at DESC;

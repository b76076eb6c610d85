INSERT INTO {schema}.load_audit (
    color, source_month, run_id, source_url, bytes_downloaded, rows_read, rows_dropped, rows_flagged, rows_loaded,
    extract_seconds, transform_seconds, load_seconds
) VALUES (
    %(color)s, %(source_month)s, %(run_id)s, %(source_url)s, %(bytes_downloaded)s, %(rows_read)s,
    %(rows_dropped)s, %(rows_flagged)s, %(rows_loaded)s, %(extract_seconds)s, %(transform_seconds)s, %(load_seconds)s
)
ON CONFLICT (color, source_month, run_id) DO UPDATE SET
    source_url = excluded.source_url,
    bytes_downloaded = excluded.bytes_downloaded,
    rows_read = excluded.rows_read,
    rows_dropped = excluded.rows_dropped,
    rows_flagged = excluded.rows_flagged,
    rows_loaded = excluded.rows_loaded,
    extract_seconds = excluded.extract_seconds,
    transform_seconds = excluded.transform_seconds,
    load_seconds = excluded.load_seconds,
    loaded_at = now();

SELECT COUNT(*) AS row_count FROM {table} WHERE source_month = @source_month;

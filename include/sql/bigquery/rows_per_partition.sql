SELECT {partition_column} AS pickup_date, COUNT(*) AS row_count
FROM {table}
WHERE source_month = @source_month
GROUP BY 1
ORDER BY 1;

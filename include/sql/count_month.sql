SELECT count(*) AS row_count FROM {schema}.{partition};

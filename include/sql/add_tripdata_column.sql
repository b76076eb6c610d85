-- A column a newer month brings (a TLC Parquet file's new column): added to the partitioned table, so every month's
-- partition has it, NULL in the months before. Adding a nullable column without a default rewrites nothing.
ALTER TABLE {schema}.{table} ADD COLUMN IF NOT EXISTS {column} {type};

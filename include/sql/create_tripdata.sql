-- One partition per source month: reloading a month touches only its own partition.
-- The columns are the cleaned month's, generated from nyc_taxi/schema.py; source_month is added by each load.
CREATE TABLE IF NOT EXISTS {schema}.{table} (
    {columns},
    source_month date NOT NULL
) PARTITION BY LIST (source_month);

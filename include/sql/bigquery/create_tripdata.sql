-- The columns are the cleaned month's, generated from nyc_taxi/schema.py; source_month is added by each load.
CREATE TABLE IF NOT EXISTS {table} (
    {columns},
    source_month DATE NOT NULL
)
PARTITION BY {partition_column}
CLUSTER BY pu_location_id;

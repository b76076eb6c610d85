-- The release's taxi zone lookup, replaced whole by taxi_zones_to_postgres; the trip checks look location ids up in
-- it. The columns are generated from nyc_taxi/schema.py.
CREATE TABLE IF NOT EXISTS {schema}.zones (
    {columns},
    PRIMARY KEY (location_id)
);

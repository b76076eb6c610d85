-- The FHV release file's columns as they are, typed, unpartitioned: what the floor COPYs an FHV month into.
-- The location ids and SR_Flag are written `132.0` in the files, which integer input refuses.
CREATE TABLE {schema}.{table} (
    dispatching_base_num   text,
    pickup_datetime        timestamp,
    "dropOff_datetime"     timestamp,
    "PUlocationID"         double precision,
    "DOlocationID"         double precision,
    "SR_Flag"              double precision,
    "Affiliated_base_number" text
);

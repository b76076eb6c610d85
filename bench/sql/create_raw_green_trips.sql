-- The green release file's columns as they are, typed, unpartitioned: what the floor COPYs a green month into.
-- passenger_count, RatecodeID, payment_type and trip_type are written `1.0` in the files, which integer input
-- refuses.
CREATE TABLE {schema}.{table} (
    "VendorID"            integer,
    lpep_pickup_datetime  timestamp,
    lpep_dropoff_datetime timestamp,
    store_and_fwd_flag    text,
    "RatecodeID"          double precision,
    "PULocationID"        integer,
    "DOLocationID"        integer,
    passenger_count       double precision,
    trip_distance         double precision,
    fare_amount           double precision,
    extra                 double precision,
    mta_tax               double precision,
    tip_amount            double precision,
    tolls_amount          double precision,
    ehail_fee             double precision,
    improvement_surcharge double precision,
    total_amount          double precision,
    payment_type          double precision,
    trip_type             double precision,
    congestion_surcharge  double precision
);

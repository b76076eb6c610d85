-- The release file's columns as they are, typed, unpartitioned: what the floor and Mage's way COPY into.
-- passenger_count, RatecodeID and payment_type are written `1.0` in the files, which integer input refuses.
CREATE TABLE {schema}.{table} (
    "VendorID"            integer,
    tpep_pickup_datetime  timestamp,
    tpep_dropoff_datetime timestamp,
    passenger_count       double precision,
    trip_distance         double precision,
    "RatecodeID"          double precision,
    store_and_fwd_flag    text,
    "PULocationID"        integer,
    "DOLocationID"        integer,
    payment_type          double precision,
    fare_amount           double precision,
    extra                 double precision,
    mta_tax               double precision,
    tip_amount            double precision,
    tolls_amount          double precision,
    improvement_surcharge double precision,
    total_amount          double precision,
    congestion_surcharge  double precision
);

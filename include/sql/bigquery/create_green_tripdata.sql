CREATE TABLE IF NOT EXISTS {table} (
    vendor_id             INT64,
    lpep_pickup_datetime  DATETIME,
    lpep_dropoff_datetime DATETIME,
    store_and_fwd_flag    STRING,
    ratecode_id           INT64,
    pu_location_id        INT64,
    do_location_id        INT64,
    passenger_count       INT64,
    trip_distance         FLOAT64,
    fare_amount           FLOAT64,
    extra                 FLOAT64,
    mta_tax               FLOAT64,
    tip_amount            FLOAT64,
    tolls_amount          FLOAT64,
    ehail_fee             FLOAT64,
    improvement_surcharge FLOAT64,
    total_amount          FLOAT64,
    payment_type          INT64,
    trip_type             INT64,
    congestion_surcharge  FLOAT64,
    lpep_pickup_date      DATE,
    source_month          DATE NOT NULL
)
PARTITION BY lpep_pickup_date
CLUSTER BY pu_location_id;

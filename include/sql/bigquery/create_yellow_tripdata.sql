CREATE TABLE IF NOT EXISTS {table} (
    vendor_id             INT64,
    tpep_pickup_datetime  DATETIME,
    tpep_dropoff_datetime DATETIME,
    passenger_count       INT64,
    trip_distance         FLOAT64,
    ratecode_id           INT64,
    store_and_fwd_flag    STRING,
    pu_location_id        INT64,
    do_location_id        INT64,
    payment_type          INT64,
    fare_amount           FLOAT64,
    extra                 FLOAT64,
    mta_tax               FLOAT64,
    tip_amount            FLOAT64,
    tolls_amount          FLOAT64,
    improvement_surcharge FLOAT64,
    total_amount          FLOAT64,
    congestion_surcharge  FLOAT64,
    tpep_pickup_date      DATE,
    source_month          DATE NOT NULL
)
PARTITION BY tpep_pickup_date
CLUSTER BY pu_location_id;

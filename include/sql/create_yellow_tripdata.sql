-- One partition per source month: reloading a month touches only its own partition.
CREATE TABLE IF NOT EXISTS {schema}.{table} (
    vendor_id             bigint,
    tpep_pickup_datetime  timestamp,
    tpep_dropoff_datetime timestamp,
    passenger_count       bigint,
    trip_distance         double precision,
    ratecode_id           bigint,
    store_and_fwd_flag    text,
    pu_location_id        bigint,
    do_location_id        bigint,
    payment_type          bigint,
    fare_amount           double precision,
    extra                 double precision,
    mta_tax               double precision,
    tip_amount            double precision,
    tolls_amount          double precision,
    improvement_surcharge double precision,
    total_amount          double precision,
    congestion_surcharge  double precision,
    tpep_pickup_date      date,
    source_month          date NOT NULL
) PARTITION BY LIST (source_month);

-- One row per month loaded: which write of the month's GCS manifest it came from (GCS numbers each write).
CREATE TABLE IF NOT EXISTS {table} (
    source_month        DATE NOT NULL,
    manifest_generation INT64 NOT NULL,
    row_count           INT64 NOT NULL,
    loaded_at           TIMESTAMP NOT NULL
);

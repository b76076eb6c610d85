CREATE TABLE IF NOT EXISTS {schema}.load_audit (
    color             text        NOT NULL,
    source_month      date        NOT NULL,
    run_id            text        NOT NULL,
    source_url        text        NOT NULL,
    bytes_downloaded  bigint      NOT NULL,
    rows_read         bigint      NOT NULL,
    rows_dropped      jsonb       NOT NULL,  -- rule -> rows it dropped
    rows_flagged      jsonb       NOT NULL DEFAULT '{{}}',  -- rule -> rows kept that break it, only counted
    rows_loaded       bigint      NOT NULL,
    extract_seconds   real        NOT NULL,
    transform_seconds real        NOT NULL,
    load_seconds      real        NOT NULL,
    loaded_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (color, source_month, run_id)
);

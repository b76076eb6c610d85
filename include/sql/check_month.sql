-- Each rule's broken rows in the month's partition, with up to three of them as examples.
SELECT rule, count(*) AS rows_broken, array_agg(example) FILTER (WHERE nth <= 3) AS examples
FROM (
    SELECT rules.rule,
           row_to_json(trips)::text AS example,
           row_number() OVER (PARTITION BY rules.rule) AS nth
    FROM {schema}.{partition} AS trips
    CROSS JOIN LATERAL (VALUES
        ('passenger_count > 0', trips.passenger_count IS NULL OR trips.passenger_count <= 0),
        ('trip_distance > 0', trips.trip_distance IS NULL OR trips.trip_distance <= 0),
        ('vendor_id in known vendors', trips.vendor_id IS NULL OR trips.vendor_id <> ALL (%(known_vendor_ids)s))
    ) AS rules (rule, broken)
    WHERE rules.broken
) AS broken_rows
GROUP BY rule
ORDER BY rule;

-- Each rule's broken rows in the month's partition, with up to three of them as examples. One pass: a row's rules
-- are evaluated together, and only a row that breaks one is unfolded into (rule, broken) pairs, so a clean month
-- costs one scan (a VALUES row per rule and trip took 5 times as long). The TLC's 2009-2010 yellow files name the
-- vendor in words (vendor_name), not by id: for their months a NULL vendor_id is no fault (vendor_id_published).
SELECT rule, count(*) AS rows_broken, array_agg(example) FILTER (WHERE nth <= 3) AS examples
FROM (
    SELECT rules.rule,
           row_to_json(trips)::text AS example,
           row_number() OVER (PARTITION BY rules.rule) AS nth
    FROM {schema}.{partition} AS trips
    CROSS JOIN LATERAL (VALUES (ARRAY[
        trips.passenger_count IS NULL OR trips.passenger_count <= 0,
        trips.trip_distance IS NULL OR trips.trip_distance <= 0,
        (trips.vendor_id IS NULL AND %(vendor_id_published)s) OR trips.vendor_id <> ALL (%(known_vendor_ids)s)
    ])) AS checked (broken)
    CROSS JOIN LATERAL unnest(
        ARRAY['passenger_count > 0', 'trip_distance > 0', 'vendor_id in known vendors'],  -- the rules above, in order
        checked.broken
    ) AS rules (rule, broken)
    WHERE true = ANY (checked.broken) AND rules.broken
) AS broken_rows
GROUP BY rule
ORDER BY rule;

-- FHV's rules in the month's partition (it has no passengers, distance or vendor): the rows the transform drops
-- must not be there. The rules it only counts are in the audit row, not checked here. One pass, as check_month.sql.
SELECT rule, count(*) AS rows_broken, array_agg(example) FILTER (WHERE nth <= 3) AS examples
FROM (
    SELECT rules.rule,
           row_to_json(trips)::text AS example,
           row_number() OVER (PARTITION BY rules.rule) AS nth
    FROM {schema}.{partition} AS trips
    CROSS JOIN LATERAL (VALUES (ARRAY[
        trips.dispatching_base_num IS NULL,
        trips.pickup_datetime IS NULL
    ])) AS checked (broken)
    CROSS JOIN LATERAL unnest(
        ARRAY['dispatching_base_num is present', 'pickup_datetime is present'],  -- the rules above, in order
        checked.broken
    ) AS rules (rule, broken)
    WHERE true = ANY (checked.broken) AND rules.broken
) AS broken_rows
GROUP BY rule
ORDER BY rule;

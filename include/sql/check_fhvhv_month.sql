-- fhvhv's rule in the month's partition: the rows the transform drops (no pickup time) must not be there. The rule it
-- only counts (dropoff not after pickup) is in the audit row. One pass, as check_month.sql.
SELECT rule, count(*) AS rows_broken, array_agg(example) FILTER (WHERE nth <= 3) AS examples
FROM (
    SELECT 'pickup_datetime is present' AS rule,
           row_to_json(trips)::text AS example,
           row_number() OVER () AS nth
    FROM {schema}.{partition} AS trips
    WHERE trips.pickup_datetime IS NULL
) AS broken_rows
GROUP BY rule
ORDER BY rule;

-- Location ids of the month's trips that the zone lookup lacks, with how many pickups and dropoffs name each,
-- the most frequent first. Empty ids are not unknown, only missing.
SELECT location_id, count(*) AS pickups_or_dropoffs
FROM (
    SELECT pu_location_id AS location_id FROM {schema}.{partition}
    UNION ALL
    SELECT do_location_id FROM {schema}.{partition}
) AS trip_ends
WHERE location_id IS NOT NULL
  AND NOT EXISTS (SELECT FROM {schema}.zones WHERE zones.location_id = trip_ends.location_id)
GROUP BY location_id
ORDER BY pickups_or_dropoffs DESC, location_id;

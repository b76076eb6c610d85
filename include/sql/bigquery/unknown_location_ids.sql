-- Location ids of the month's trips that the zone lookup lacks, with how many pickups and dropoffs name each,
-- the most frequent first. Empty ids are not unknown, only missing.
SELECT location_id, COUNT(*) AS pickups_or_dropoffs
FROM (
    SELECT pu_location_id AS location_id FROM {table} WHERE source_month = @source_month
    UNION ALL
    SELECT do_location_id AS location_id FROM {table} WHERE source_month = @source_month
) AS trip_ends
WHERE location_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM {zones_table} AS zones WHERE zones.location_id = trip_ends.location_id)
GROUP BY location_id
ORDER BY pickups_or_dropoffs DESC, location_id;

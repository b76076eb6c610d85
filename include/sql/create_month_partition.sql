-- Created apart and then attached: ATTACH PARTITION waits for no reader or writer of the table,
-- where CREATE TABLE ... PARTITION OF would wait for all of them (and make new ones queue behind it).
CREATE TABLE {schema}.{partition} (LIKE {schema}.{table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE {schema}.{table} ATTACH PARTITION {schema}.{partition} FOR VALUES IN ({source_month});

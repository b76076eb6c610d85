-- The table's columns and their types as information_schema names them (schema.py's StoredTypes.postgres).
SELECT column_name, data_type
FROM information_schema.columns
WHERE table_schema = %(schema)s AND table_name = %(table)s
ORDER BY ordinal_position;

SELECT EXISTS (
    SELECT FROM pg_attribute
    WHERE attrelid = to_regclass(%(qualified_name)s) AND attname = %(column_name)s AND NOT attisdropped
) AS column_exists;

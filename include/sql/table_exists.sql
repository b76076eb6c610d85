SELECT to_regclass(%(qualified_name)s) IS NOT NULL AS table_exists;

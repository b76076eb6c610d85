DELETE FROM {schema}.zones;

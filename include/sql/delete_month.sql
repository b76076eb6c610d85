DELETE FROM {schema}.{partition};

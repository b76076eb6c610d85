SELECT source_month, manifest_generation FROM {audit_table};

SELECT source_month, manifest_generation, row_count, loaded_at FROM {audit_table};

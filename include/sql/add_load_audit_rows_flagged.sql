-- Audit tables made before rules that only count rows. Run only when the column is missing: ALTER TABLE waits for
-- every reader of the table, even when it has nothing to add.
ALTER TABLE {schema}.load_audit ADD COLUMN IF NOT EXISTS rows_flagged jsonb NOT NULL DEFAULT '{{}}';

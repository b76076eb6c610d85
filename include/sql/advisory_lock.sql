-- Held until the transaction ends: loads of one month, and DDL, queue instead of racing.
SELECT pg_advisory_xact_lock(hashtext(%(lock_name)s));

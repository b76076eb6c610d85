-- Serialises loads of the same month (and partition creation): a second load waits, then replaces the first.
SELECT pg_advisory_xact_lock(hashtext(%(lock_name)s));

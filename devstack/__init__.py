"""Local stand-ins for the demo, the tests and the benchmark: a throwaway PostgreSQL
cluster, a synthetic month of NYC taxi trips, and an HTTP server in the release's layout."""

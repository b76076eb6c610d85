"""NYC taxi trips from the DataTalksClub release into Postgres, GCS and BigQuery: plain functions the DAGs wire."""

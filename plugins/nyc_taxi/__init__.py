"""NYC taxi trips from the DataTalksClub release into Postgres: plain functions the DAGs wire together."""

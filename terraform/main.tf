# What the DAGs write to (a bucket and a dataset) and the identity they run as, with no more access than that.
# Composer (composer.tf) and GKE (gke.tf) are optional; outputs.tf gives every value Airflow needs.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  bucket_name = var.bucket_name != "" ? var.bucket_name : "${var.project_id}-nyc-taxi-lake"

  # Every Airflow Variable the DAGs read (plugins/nyc_taxi/settings.py); tests/deploy keeps this complete. Staging
  # is in the bucket, so tasks of a run may land on any worker or pod; the lifecycle rule below sweeps orphans.
  airflow_variables = {
    nyc_taxi_staging_url       = "gs://${google_storage_bucket.lake.name}/_staging"
    nyc_taxi_source            = var.source
    nyc_taxi_source_base_url   = var.source_base_url
    nyc_taxi_tlc_base_url      = var.tlc_base_url
    nyc_taxi_tlc_wait_days     = var.tlc_wait_days
    nyc_taxi_tlc_poll_minutes  = var.tlc_poll_minutes
    nyc_taxi_postgres_schema   = var.postgres_schema
    nyc_taxi_gcs_bucket        = google_storage_bucket.lake.name
    nyc_taxi_gcs_prefix        = var.gcs_prefix
    nyc_taxi_bigquery_project  = var.project_id
    nyc_taxi_bigquery_dataset  = google_bigquery_dataset.ny_taxi.dataset_id
    nyc_taxi_bigquery_location = google_bigquery_dataset.ny_taxi.location
    nyc_taxi_alert_email_to    = var.alert_email_to
  }
}

resource "google_project_service" "apis" {
  for_each = toset(concat(
    ["iam.googleapis.com", "storage.googleapis.com", "bigquery.googleapis.com"],
    var.enable_composer ? ["composer.googleapis.com"] : [],
    var.enable_gke ? ["artifactregistry.googleapis.com", "container.googleapis.com"] : [],
  ))

  project = var.project_id
  service = each.value

  # Turning an API off on destroy would break whatever else in the project uses it.
  disable_on_destroy = false
}

resource "google_storage_bucket" "lake" {
  #checkov:skip=CKV_GCP_62:Access is logged by Cloud Audit Logs (turn on Data Access logs for storage); a usage-log bucket would need a bucket of its own.
  #checkov:skip=CKV_GCP_78:The objects are derived: any run rebuilds a month from the source. Soft delete (7 days) covers a mistaken delete; versioning would keep every rewrite of every month.
  name     = local.bucket_name
  project  = var.project_id
  location = var.data_location

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.allow_destroying_data

  # A run cut off before its teardown leaves staged objects: the publish staging (<prefix>/_staging/) and the
  # tasks' staging (_staging/). Nothing reads them after a day.
  lifecycle_rule {
    condition {
      age            = var.staging_retention_days
      matches_prefix = ["_staging/", "${var.gcs_prefix}/_staging/"]
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_bigquery_dataset" "ny_taxi" {
  #checkov:skip=CKV_GCP_81:Google-managed encryption: the data is a public data set, and a customer-managed key would add a key whose loss loses the tables.
  dataset_id  = var.dataset_id
  project     = var.project_id
  location    = var.data_location
  description = "NYC taxi trips loaded by the Airflow DAGs of nyc-taxi (one table and one audit table per color)."

  delete_contents_on_destroy = var.allow_destroying_data

  depends_on = [google_project_service.apis]
}

# The identity of the DAGs' tasks. No key is ever created for it: on GKE the task pods get it through Workload
# Identity (gke.tf); on Composer the environment's identity impersonates it (composer.tf).
resource "google_service_account" "dags" {
  project      = var.project_id
  account_id   = "nyc-taxi-dags"
  display_name = "nyc-taxi DAGs"
  description  = "What the nyc-taxi DAGs' tasks run as: objects in the lake bucket, tables in the ny_taxi dataset, query and load jobs."

  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_iam_member" "dags_objects" {
  bucket = google_storage_bucket.lake.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.dags.member
}

resource "google_bigquery_dataset_iam_member" "dags_tables" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.ny_taxi.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = google_service_account.dags.member
}

# Jobs (loads, queries) belong to a project, not a dataset: jobUser can only be granted here. It runs jobs; what a
# job may read or write is still limited by the dataset binding above.
resource "google_project_iam_member" "dags_jobs" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = google_service_account.dags.member
}

# Every value Airflow needs, for Composer (set already), the Helm chart (a Kubernetes secret) or .env.local.

output "bucket" {
  description = "The lake bucket (Variable nyc_taxi_gcs_bucket)."
  value       = google_storage_bucket.lake.name
}

output "dataset" {
  description = "The BigQuery dataset, as project.dataset."
  value       = "${var.project_id}.${google_bigquery_dataset.ny_taxi.dataset_id}"
}

output "dags_service_account" {
  description = "The account the DAGs' tasks act as."
  value       = google_service_account.dags.email
}

output "airflow_variables" {
  description = "The Airflow Variables the DAGs read."
  value       = local.airflow_variables
}

output "airflow_env" {
  description = "The same Variables and the GCP connection as environment variables, one NAME=value a line: for .env.local or `kubectl create secret generic --from-env-file`. No credential: the connection uses the workload's own identity."
  value = join("\n", concat(
    [for name, value in local.airflow_variables : "AIRFLOW_VAR_${upper(name)}=${value}"],
    ["AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT=${jsonencode({ conn_type = "google_cloud_platform", extra = { project = var.project_id } })}"],
  ))
}

output "composer_bucket" {
  description = "The Composer environment's bucket: dags/ and plugins/ go to <this>/dags and <this>/plugins, include/ to <this>/data/include (docs/deploy-gcp.md). Null without Composer."
  value       = var.enable_composer ? trimsuffix(google_composer_environment.nyc_taxi[0].config[0].dag_gcs_prefix, "/dags") : null
}

output "composer_airflow_uri" {
  description = "The Composer environment's Airflow UI. Null without Composer."
  value       = var.enable_composer ? google_composer_environment.nyc_taxi[0].config[0].airflow_uri : null
}

output "image_repository" {
  description = "Where to push the project's image for the Helm chart (images.airflow.repository). Null without GKE."
  value       = var.enable_gke ? "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images[0].repository_id}/nyc-taxi-airflow" : null
}

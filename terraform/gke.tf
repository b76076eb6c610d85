# Optional (var.enable_gke): what the official Helm chart on a GKE cluster needs from Terraform. A repository for
# the project's image, and Workload Identity so the task pods act as the DAGs' account without a key.

locals {
  gke_node_service_account = (
    var.gke_node_service_account != ""
    ? var.gke_node_service_account
    : "${data.google_project.this.number}-compute@developer.gserviceaccount.com"
  )
}

resource "google_artifact_registry_repository" "images" {
  #checkov:skip=CKV_GCP_84:Google-managed encryption: the image holds public code, no data or secrets.
  count = var.enable_gke ? 1 : 0

  project       = var.project_id
  location      = var.region
  repository_id = "nyc-taxi"
  format        = "DOCKER"
  description   = "The nyc-taxi Airflow image (Dockerfile) that the Helm chart runs."

  depends_on = [google_project_service.apis]
}

# The nodes pull the image: read access to this repository only.
resource "google_artifact_registry_repository_iam_member" "nodes_pull" {
  count = var.enable_gke ? 1 : 0

  project    = var.project_id
  location   = google_artifact_registry_repository.images[0].location
  repository = google_artifact_registry_repository.images[0].name
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${local.gke_node_service_account}"
}

# The chart's task pods run as this Kubernetes service account (deploy/helm/values.yaml), which may act as the
# DAGs' account and nothing else.
resource "google_service_account_iam_member" "workload_identity" {
  count = var.enable_gke ? 1 : 0

  service_account_id = google_service_account.dags.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.gke_namespace}/${var.gke_worker_service_account}]"
}

# Task pods are deleted when they end, so their logs go to the bucket (remote logging, deploy/helm/values.yaml)
# and the API server reads them there, as an account that can read those logs and nothing else.
resource "google_service_account" "logs" {
  count = var.enable_gke ? 1 : 0

  project      = var.project_id
  account_id   = "nyc-taxi-logs"
  display_name = "nyc-taxi task log reader"
  description  = "The Airflow API server on GKE: reads task logs under _airflow_logs/ in the lake bucket."
}

resource "google_storage_bucket_iam_member" "logs_read" {
  count = var.enable_gke ? 1 : 0

  bucket = google_storage_bucket.lake.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.logs[0].member

  # Listing is checked on the bucket itself, reading on each object: the bucket (object names) and the log objects.
  condition {
    title      = "task-logs-only"
    expression = "resource.name == \"projects/_/buckets/${google_storage_bucket.lake.name}\" || resource.name.startsWith(\"projects/_/buckets/${google_storage_bucket.lake.name}/objects/_airflow_logs/\")"
  }
}

resource "google_service_account_iam_member" "logs_workload_identity" {
  count = var.enable_gke ? 1 : 0

  service_account_id = google_service_account.logs[0].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.gke_namespace}/${var.gke_api_server_service_account}]"
}

variable "project_id" {
  description = "The GCP project that holds the bucket, the dataset and the service accounts (and Composer, if enabled)."
  type        = string
}

variable "region" {
  description = "Region of the Composer environment and the Artifact Registry repository, e.g. us-central1."
  type        = string
  default     = "us-central1"
}

variable "data_location" {
  description = "Location of the bucket and the BigQuery dataset. They must match for BigQuery to load from the bucket: a multi-region (US, EU) or a region."
  type        = string
  default     = "US"
}

variable "bucket_name" {
  description = "Name of the bucket the DAGs write Parquet months to (Variable nyc_taxi_gcs_bucket). Bucket names are global; empty means \"<project_id>-nyc-taxi-lake\"."
  type        = string
  default     = ""
}

variable "gcs_prefix" {
  description = "Folder in the bucket the DAGs write under (Variable nyc_taxi_gcs_prefix)."
  type        = string
  default     = "nyc_taxi"
}

variable "staging_retention_days" {
  description = "Objects under _staging/ older than this many days are deleted: what a run cut off before its teardown leaves behind."
  type        = number
  default     = 2
}

variable "allow_destroying_data" {
  description = "Let `terraform destroy` delete the bucket with its objects and the dataset with its tables. Apply with it set to true before destroying; keep it false otherwise."
  type        = bool
  default     = false
}

variable "dataset_id" {
  description = "BigQuery dataset the DAGs load into (Variable nyc_taxi_bigquery_dataset)."
  type        = string
  default     = "ny_taxi"
}

variable "source" {
  description = "Which source the DAGs read (Variable nyc_taxi_source): release-csv, the course's release, or tlc-parquet, the TLC's own Parquet files up to the latest published month."
  type        = string
  default     = "release-csv"

  validation {
    condition     = contains(["release-csv", "tlc-parquet"], var.source)
    error_message = "source is release-csv or tlc-parquet."
  }
}

variable "tlc_base_url" {
  description = "Where the TLC's <service>_tripdata_YYYY-MM.parquet files live (Variable nyc_taxi_tlc_base_url)."
  type        = string
  default     = "https://d37ci6vzurychx.cloudfront.net/trip-data"
}

variable "tlc_wait_days" {
  description = "How many days a tlc-parquet run waits for its month's file before failing with 'not published yet' (Variable nyc_taxi_tlc_wait_days)."
  type        = string
  default     = "40"
}

variable "tlc_poll_minutes" {
  description = "How often, in minutes, the triggerer asks whether a month's file is published (Variable nyc_taxi_tlc_poll_minutes)."
  type        = string
  default     = "60"
}

variable "source_base_url" {
  description = "Where <color>/<color>_tripdata_YYYY-MM.csv.gz lives (Variable nyc_taxi_source_base_url)."
  type        = string
  default     = "https://github.com/DataTalksClub/nyc-tlc-data/releases/download"
}

variable "postgres_schema" {
  description = "Schema of the Postgres the Postgres DAGs load into (Variable nyc_taxi_postgres_schema). Terraform does not create that database."
  type        = string
  default     = "ny_taxi"
}

variable "enable_composer" {
  description = "Create a Cloud Composer 3 environment that runs the DAGs (takes about 25 minutes, and costs money while it exists)."
  type        = bool
  default     = false
}

variable "composer_environment_name" {
  description = "Name of the Composer environment."
  type        = string
  default     = "nyc-taxi"
}

variable "composer_image_version" {
  description = "Composer 3 image with Airflow 3: composer-3-airflow-<airflow version>[-build.<n>]. Leave the build out to get the newest build of that Airflow version."
  type        = string
  default     = "composer-3-airflow-3.3.1-build.10"

  validation {
    condition     = can(regex("^composer-3-airflow-3(\\.[0-9]+){0,2}(-build\\.[0-9]+)?$", var.composer_image_version))
    error_message = "The DAGs need Airflow 3 on Composer 3: composer-3-airflow-3.x.y[-build.n]."
  }
}

variable "enable_gke" {
  description = "Prepare for the Helm chart on GKE: an Artifact Registry repository for the project's image, and Workload Identity for the task pods. Create the cluster first (docs/deploy-gcp.md): the binding needs its identity pool."
  type        = bool
  default     = false
}

variable "gke_namespace" {
  description = "Kubernetes namespace the Helm chart is installed in."
  type        = string
  default     = "airflow"
}

variable "gke_worker_service_account" {
  description = "Kubernetes service account of the task pods; deploy/helm/values.yaml names it."
  type        = string
  default     = "nyc-taxi-worker"
}

variable "gke_api_server_service_account" {
  description = "Kubernetes service account of the chart's API server, which reads task logs from the bucket; deploy/helm/values.yaml names it."
  type        = string
  default     = "nyc-taxi-api-server"
}

variable "gke_node_service_account" {
  description = "Service account of the GKE nodes, which pull the image from Artifact Registry. Empty means the Compute Engine default service account, which Autopilot clusters use."
  type        = string
  default     = ""
}

variable "alert_email_to" {
  description = "Who the failure, recovered and late alerts mail (comma-separated); mail also needs the connection nyc_taxi_alerts_smtp (docs/monitoring.md). Empty: no mail."
  type        = string
  default     = ""
}

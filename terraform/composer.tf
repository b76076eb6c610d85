# An optional Cloud Composer 3 environment (var.enable_composer) with Airflow 3, the pipeline's packages and the
# DAGs' Variables. DAGs, plugins and include/ are copied into its bucket afterwards (docs/deploy-gcp.md).

locals {
  # The pipeline's packages, from the same file the Docker image is built from. Airflow itself is left out: the
  # image version fixes it, and Composer refuses another.
  requirement_lines = [
    for line in split("\n", file("${path.module}/../requirements-airflow.in")) :
    trimspace(split("#", line)[0]) if trimspace(split("#", line)[0]) != ""
  ]
  composer_pypi_packages = {
    for requirement in local.requirement_lines :
    regex("^[A-Za-z0-9._-]+", requirement) => trimprefix(requirement, regex("^[A-Za-z0-9._-]+", requirement))
    if lower(regex("^[A-Za-z0-9._-]+", requirement)) != "apache-airflow"
  }
}

# The environment's own identity. Composer requires composer.worker on the project for it; that role is not for
# the data, so the DAGs' calls go through the narrow account (`impersonation_chain` in the connection below).
resource "google_service_account" "composer" {
  count = var.enable_composer ? 1 : 0

  project      = var.project_id
  account_id   = "nyc-taxi-composer"
  display_name = "nyc-taxi Composer environment"
  description  = "Runs the Composer environment's components; the tasks impersonate nyc-taxi-dags for data."
}

resource "google_project_iam_member" "composer_worker" {
  #checkov:skip=CKV_GCP_49:Composer requires composer.worker on the project for its environment's account, and offers no narrower grant; this account gets no other role and no data access of its own.
  count = var.enable_composer ? 1 : 0

  project = var.project_id
  role    = "roles/composer.worker"
  member  = google_service_account.composer[0].member
}

# Composer's service agent manages the environment as this account: granted on the account, not the project.
resource "google_service_account_iam_member" "composer_agent" {
  count = var.enable_composer ? 1 : 0

  service_account_id = google_service_account.composer[0].name
  role               = "roles/composer.ServiceAgentV2Ext"
  member             = "serviceAccount:service-${data.google_project.this.number}@cloudcomposer-accounts.iam.gserviceaccount.com"

  depends_on = [google_project_service.apis]
}

# The environment may mint short-lived tokens for the DAGs' account, and for no other.
resource "google_service_account_iam_member" "composer_impersonates_dags" {
  count = var.enable_composer ? 1 : 0

  service_account_id = google_service_account.dags.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.composer[0].member
}

resource "google_composer_environment" "nyc_taxi" {
  count = var.enable_composer ? 1 : 0

  name    = var.composer_environment_name
  project = var.project_id
  region  = var.region

  config {
    environment_size = "ENVIRONMENT_SIZE_SMALL"

    software_config {
      image_version = var.composer_image_version
      pypi_packages = local.composer_pypi_packages

      env_variables = merge(
        { for name, value in local.airflow_variables : "AIRFLOW_VAR_${upper(name)}" => value },
        {
          # Connections from the environment win over the one Composer stores; no key: the environment's
          # identity impersonates the DAGs' account.
          AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT = jsonencode({
            conn_type = "google_cloud_platform"
            extra = {
              project             = var.project_id
              impersonation_chain = google_service_account.dags.email
            }
          })
          # include/sql is copied to the bucket's data/ folder: Composer syncs dags/, plugins/ and data/ only.
          NYC_TAXI_SQL_DIR = "/home/airflow/gcs/data/include/sql"
          # pyarrow's jemalloc pool returns memory sooner (.env explains).
          ARROW_DEFAULT_MEMORY_POOL = "jemalloc"
          # A month not loaded 3 days after its run was queued sends the late alert (docs/monitoring.md).
          NYC_TAXI_LATE_AFTER = "3d"
        },
      )

      airflow_config_overrides = {
        "core-dags_are_paused_at_creation" = "True"
        # Our tasks' lineage (plugins/nyc_taxi/lineage.py), for Composer's Dataplex lineage or your own transport.
        "openlineage-extractors" = "nyc_taxi.lineage.MonthLineageExtractor"
        "openlineage-namespace"  = "nyc_taxi"
      }
    }

    node_config {
      service_account = google_service_account.composer[0].email
    }
  }

  depends_on = [
    google_project_service.apis,
    google_project_iam_member.composer_worker,
    google_service_account_iam_member.composer_agent,
    google_service_account_iam_member.composer_impersonates_dags,
  ]
}

# Every optional part of terraform/ turned on, so checkov (deploy/check-terraform) sees every resource.
project_id      = "nyc-taxi-example"
enable_composer = true
enable_gke      = true

"""HTTP endpoints: health, readiness, metrics and the admin API."""

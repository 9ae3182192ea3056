"""The web app: REST API, staff pages, FHIR intake, health and metrics."""

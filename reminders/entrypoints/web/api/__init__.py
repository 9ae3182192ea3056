"""Machine doors: the REST API, its OpenAPI document, FHIR intake and Twilio webhooks."""

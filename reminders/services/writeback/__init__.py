"""Write-back to the chart: what was sent and answered, as FHIR R4 resources through an outbox."""

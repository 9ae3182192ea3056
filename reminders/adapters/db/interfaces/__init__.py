"""Hospital interfaces in the database: HL7 v2 messages, enrollment references, the FHIR outbox."""

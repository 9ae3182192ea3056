"""The HL7 v2 door: an MLLP listener that hands each message to services/enrollments/hl7_intake."""

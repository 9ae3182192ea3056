"""Patients, enrollments, consents, caregivers and opt-outs in the database."""

"""The database: tables, engines, the unit of work, migrations and one repository per table group."""

"""The Migrations screen's widgets: the revision list, the run log, the SQL panes."""

"""The Audit screen's widgets: the filters and the selected event's changes."""

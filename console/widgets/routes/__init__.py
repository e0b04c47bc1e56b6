"""The Routes screen's widgets: catalog, request builder, response, history."""

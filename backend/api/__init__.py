"""HTTP routers: thin layers that parse, call a service and map its errors."""

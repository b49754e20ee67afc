"""REST routers, one per resource of DESIGN.md §2."""

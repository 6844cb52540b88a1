"""Request and response schemas of the HTTP contract (DESIGN.md), one module per resource of
services/http/resources, the shared fields and helpers in `common`."""

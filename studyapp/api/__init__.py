"""REST API (Django REST framework) with an OpenAPI schema."""

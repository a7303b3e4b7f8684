"""The floor every domain may import: small, dependency-free helpers (phone numbers, …)."""

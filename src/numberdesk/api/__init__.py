"""The HTTP edge shared by every route: who is calling, idempotency, problem details."""

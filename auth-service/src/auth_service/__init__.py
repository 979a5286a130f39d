"""Auth service: users, passwords, access and refresh tokens, and the JWKS that verifies them."""

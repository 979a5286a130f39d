"""The validator's Prometheus metrics: verifications that failed, by reason."""

from prometheus_client import Counter

from auth_validator.errors import VerificationFailure

VERIFICATION_FAILURES = Counter(
    "auth_token_verification_failures_total",
    "Access tokens not verified: refused (by reason), or no verification key at hand.",
    ["reason"],
)
# Every reason's series exists from the start, at 0, so a rate over the first failures
# (and an alert comparing it with the hour before) has a baseline to compare with.
for _reason in VerificationFailure:
    VERIFICATION_FAILURES.labels(_reason.value)

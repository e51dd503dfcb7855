"""What one tagging or embedding run did, in rows and unique texts (logged and written to enrichment_runs)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Tally:
    """What one run did. Row counts (`total`, `tagged`, `quarantined`, `failed`, `over_budget`, ...) count input
    rows; `unique`, `cached`, `sent` and the `texts_*` fields count unique texts (content hashes).
    `requests` counts model calls: real HTTP attempts for OpenAI-compatible models, whose client retries are
    off (`without_sdk_retries`), and `retries` the calls among them that repeated an earlier one."""

    total: int = 0  # rows
    unique: int = 0  # unique texts among them
    cached: int = 0  # texts answered from the cache (tags, or a quarantine that used up its attempts)
    sent: int = 0  # texts handed to the model in this run
    tagged: int = 0  # rows with a good result (new or cached)
    quarantined: int = 0  # rows whose output failed validation (now or in the cache)
    failed: int = 0  # rows left untagged by transient or non-retryable errors (incl. not sent: circuit open)
    over_budget: int = 0  # rows whose text was beyond max_texts
    texts_tagged: int = 0
    texts_quarantined: int = 0
    texts_failed: int = 0
    texts_over_budget: int = 0
    attempted: int = 0  # rows whose text this run tried to get from the model (within budget)
    attempt_failed: int = 0  # of those, rows that got no good result (failed or newly quarantined)
    requests: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    kept_previous: int = 0  # rows whose new result failed and that keep their earlier good one (enrich.py)
    without_result: int = 0  # rows that failed or are quarantined and have no earlier good result (enrich.py)

    def line(self) -> str:
        return (
            f"{self.total:,} rows ({self.unique:,} unique texts): {self.cached:,} texts from cache, "
            f"{self.sent:,} sent in {self.requests:,} requests ({self.retries:,} retries); rows: "
            f"{self.tagged:,} ok, {self.failed:,} failed, {self.quarantined:,} quarantined, "
            f"{self.over_budget:,} over budget, {self.kept_previous:,} kept their previous result, "
            f"{self.without_result:,} without result; ~{self.input_tokens + self.output_tokens:,} tokens"
        )

    @property
    def failure_share(self) -> float:
        """Share of the rows this run tried to enrich that got no good result."""
        return self.attempt_failed / self.attempted if self.attempted else 0.0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

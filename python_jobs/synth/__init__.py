"""Synthetic shop world (design section 5).

    churn generate --customers 20000 --seed 42 --out data/raw/synthetic [--start 2024-01-01 --days 730]
    generate_world(n_customers, seed, out_dir, start=..., days=..., chunk_size=...) -> rows per table

Writes `<out>/<table>.parquet` for the raw contract (customers, orders, order_items, sessions,
coupon_redemptions, reviews, support_tickets, interventions) and the evaluation-only truth tables
(truth_customers, truth_texts, truth_campaigns). Customers are simulated in weekly steps, vectorised over
cells of 5,000 customers, and streamed to Parquet, so memory stays bounded at any size. Deterministic for
the seed: cell c draws from SeedSequence([seed, c, stream]) and ids are numbered in cell order, so the
content does not depend on `chunk_size` (which only sets how many customers' rows go into one write).

Modules: params (knobs), world (latent traits), simulate (weekly loop and latent state), events (one
week's orders/reviews/tickets/sessions), campaigns (targeting, hashed arms, planted effect), orders /
sessions / feedback (tables), texts + data/phrases_*.json (multilingual text), dirty (planted dirt),
writer (schemas, ids, Parquet), stats (headline statistics), calibration (how hard the world is: peer AUC,
churn rate, buyer cadence, and the truth ceiling; evaluation only), commands (CLI).

Realism targets (checked by tests/python/test_synth.py; calibrated against Online Retail I, see
docs/SYNTHETIC_WORLD.md and `python -m python_jobs.synth.calibration RAW`):
- repeat-purchase rate: 50-75% of buyers place at least two orders (Online Retail I: 66%);
- churn at a mid-world snapshot (eligible = ordered in the previous 365 days, churned = no order in the
  next 90 days): 30-55% of eligible customers (Online Retail I's 2011 snapshots: 43-51%);
- review rate: 10-30% of orders get a review;
- dirty rows: 0.5-2% of rows per raw table;
- texts: about 70% English, 25% Chinese, 5% Portuguese; 2-15% of star ratings disagree with the text;
- campaigns: treated-minus-control "ordered within 90 days of sent_at" equals truth_campaigns.planted_effect
  up to sampling noise.
"""

from python_jobs.synth.generate import generate_world

__all__ = ["generate_world"]

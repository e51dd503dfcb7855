"""Synthetic shop world (design section 5): `generate_world(n_customers, seed, out_dir)`.

Realism targets (checked by tests/python/test_synth*.py on small worlds):
- repeat-purchase rate: 40-70% of buyers place at least two orders;
- churn at a mid-world snapshot (eligible = ordered in the previous 365 days, churned = no order in the
  next 90 days): 20-45% of eligible customers;
- review rate: 10-30% of orders get a review;
- dirty rows: 0.5-2% of rows per raw table;
- texts: about 70% English, 25% Chinese, 5% Portuguese; ~7% of star ratings disagree with the text;
- campaigns: treated-minus-control "ordered within 90 days of sent_at" equals truth_campaigns.planted_effect.
"""

from python_jobs.synth.generate import generate_world

__all__ = ["generate_world"]

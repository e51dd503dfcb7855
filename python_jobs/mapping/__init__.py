"""Bring your own data: a mapping file describes an export; `churn check` validates it, `churn build` builds it."""

from python_jobs.mapping.check import CheckResult, Problem, run_check
from python_jobs.mapping.spec import Mapping, MappingError, load_mapping, parse_mapping

__all__ = ["CheckResult", "Mapping", "MappingError", "Problem", "load_mapping", "parse_mapping", "run_check"]

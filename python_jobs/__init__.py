"""ecom-churn-warehouse: the Python jobs behind the dbt project (see DESIGN section 3)."""

__version__ = "0.1.0"

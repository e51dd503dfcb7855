"""Bring your own data: a mapping file, `churn check`'s messages, and builds from a CSV export with other column
names and non-ISO dates, and from an Online Retail II-shaped file in another period (no date vars)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO_ROOT, dbt_env, shared_data

from python_jobs.cli import main
from python_jobs.dbt_runner import run_dbt
from python_jobs.mapping import Problem, load_mapping, parse_mapping, run_check
from python_jobs.mapping.spec import MappingError

EXAMPLES = REPO_ROOT / "examples" / "mappings"
MARTS = [
    "--select",
    "+fct_orders",
    "+dim_customers",
    "+stg_synthetic__quarantine",
    "--indirect-selection",
    "cautious",
]

# A shop exporting German column names, ';'-separated CSV, day-first dates, decimal commas and a currency sign.
CSV_MAPPING = """
name: csv_shop
currency: EUR
formats:
  decimal: ","
  currency_symbol: "€"
  csv: {delim: ";"}
tables:
  customers:
    file: kunden.csv
    columns:
      customer_id: KundenNr
      signup_at: {column: Angelegt, date_format: "%d.%m.%Y %H:%M:%S.%f"}
      country: Land
      acquisition_channel: Kanal
      email: Mail
  orders:
    file: bestellungen_*.csv
    formats: {date_format: ["%d/%m/%Y %H:%M:%S.%f", "%d/%m/%Y"]}
    columns:
      order_id: BestellNr
      customer_id: KundenNr
      ordered_at: Datum
      status: {sql: "case Zustand when 'OK' then 'completed' when 'STORNO' then 'cancelled' when 'RETOURE' then 'returned' else Zustand end"}
      amount: Betrag
      discount_amount: Rabatt
      cancelled_at: Storniert
      returned_at: Retour
"""


def _copy_csv(con: duckdb.DuckDBPyConnection, select: str, path: Path) -> None:
    con.execute(f"copy ({select}) to '{path}' (header, delimiter ';')")


def _euro(col: str) -> str:
    return f"case when {col} is null then null else '€ ' || replace(cast({col} as varchar), '.', ',') end"


def write_csv_export(raw: Path, out: Path) -> Path:
    """The world's customers and orders as a German-style CSV export (orders split into one file per year)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "mapping.yml").write_text(CSV_MAPPING)
    day_first = "strftime({}, '%d/%m/%Y %H:%M:%S.%f')"
    with duckdb.connect() as con:
        _copy_csv(
            con,
            f"select customer_id as KundenNr, strftime(signup_at, '%d.%m.%Y %H:%M:%S.%f') as Angelegt, "
            f"country as Land, acquisition_channel as Kanal, email as Mail from '{raw}/customers.parquet'",
            out / "kunden.csv",
        )
        orders = (
            f"select order_id as BestellNr, customer_id as KundenNr, {day_first.format('ordered_at')} as Datum, "
            "case status when 'completed' then 'OK' when 'cancelled' then 'STORNO' when 'returned' then 'RETOURE' "
            f"else status end as Zustand, {_euro('amount')} as Betrag, {_euro('discount_amount')} as Rabatt, "
            f"{day_first.format('cancelled_at')} as Storniert, {day_first.format('returned_at')} as Retour "
            f"from '{raw}/orders.parquet'"
        )
        for part, cond in (
            ("a", "year(ordered_at) % 2 = 0"),
            ("b", "not year(ordered_at) % 2 = 0 or ordered_at is null"),
        ):
            _copy_csv(con, f"{orders} where {cond}", out / f"bestellungen_{part}.csv")
    return out / "mapping.yml"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from python_jobs.synth import generate_world

    raw = tmp_path_factory.mktemp("world") / "raw"
    generate_world(300, 7, raw, progress=False)
    return raw


def write_files(world: Path, raw: Path, files: dict[str, str]) -> Path:
    """Write each file (name -> a select over the world's customers, orders and reviews) into raw."""
    raw.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        for table in ("customers", "orders", "reviews"):
            con.execute(f"create view {table} as select * from '{world}/{table}.parquet'")
        for name, select in files.items():
            con.execute(
                f"copy ({select}) to '{raw / name}' ({'header' if name.endswith('.csv') else 'format parquet'})"
            )
    return raw


def messages(problems: list[Problem], level: str = "error") -> list[str]:
    return [p.format() for p in problems if p.level == level]


def test_csv_export_builds_through_a_mapping_like_the_contract_files(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same orders, customers and quarantine from the German CSV export as from the contract Parquet files."""
    from python_jobs.build import build_from_export

    mapping = write_csv_export(world, tmp_path / "export")
    for key, value in dbt_env(tmp_path / "mapped").items():
        monkeypatch.setenv(key, value)
    db = build_from_export(mapping, tmp_path / "export", extra_args=tuple(MARTS), report=False)
    direct = tmp_path / "direct"
    run_dbt(["build", *MARTS], env=dbt_env(direct, raw=world))
    query = """
        select (select count(*) from marts.fct_orders),
               (select round(sum(amount), 6) from marts.fct_orders),
               (select count(*) from marts.fct_orders where status <> 'completed'),
               (select count(*) filter (where cancelled_at is not null) from marts.fct_orders),
               (select max(ordered_at) from marts.fct_orders),
               (select count(*) from marts.dim_customers),
               (select list(reason order by reason) from (
                   select source_table || ':' || reason as reason from staging.stg_synthetic__quarantine
                   where source_table in ('customers', 'orders')))
    """
    with duckdb.connect(str(db), read_only=True) as con:
        mapped = con.execute(query).fetchone()
    with duckdb.connect(str(direct / "churn.duckdb"), read_only=True) as con:
        expected = con.execute(query).fetchone()
    assert mapped == expected
    assert mapped[0] > 1000 and mapped[2] > 0


def test_bad_inputs_get_one_clear_message_each(world: Path, tmp_path: Path) -> None:
    """Missing columns, text in a number column, a missing file and an empty table: one message each, naming its
    table, column and file, with what to do, all in one run."""
    raw = write_files(
        world,
        tmp_path / "raw",
        {
            "customers.parquet": "select customer_id as cust, signup_at from customers",
            "orders.csv": "select order_id, customer_id, ordered_at, status, 'n/a' as amount from orders",
            "reviews.parquet": "select * from reviews limit 0",
        },
    )
    mapping = parse_mapping(
        {
            "tables": {
                "customers": {"columns": {"customer_id": "customer_no", "country": "land"}},
                "orders": {"file": "orders.csv"},
                "reviews": {},
                "sessions": {"file": "visits.parquet"},
            }
        }
    )
    result = run_check(mapping, raw, tmp_path / "work", staging=False)
    errors = messages(result.problems)
    assert len(errors) == 4, "\n".join(errors)
    by_where = {(p.table, p.column): p for p in result.errors}
    missing = by_where[("customers", "customer_id")]
    assert "missing column" in missing.message and "'customer_no'" in missing.message
    assert "did you mean 'cust'" in missing.fix and missing.file == "customers.parquet"
    assert "land" in by_where[("customers", "country")].message
    text = by_where[("orders", "amount")]
    assert "mistyped column" in text.message and "'n/a'" in text.message and text.file == "orders.csv"
    assert "decimal" in text.fix
    assert (
        "missing file" in by_where[("sessions", None)].message
        and "visits.parquet" in by_where[("sessions", None)].message
    )
    # reviews is optional: an empty file is a warning (its features are off), not an error.
    (empty,) = [p for p in result.problems if p.table == "reviews"]
    assert empty.level == "warning" and "empty table" in empty.message


def test_csv_beside_a_missing_parquet_and_text_in_some_numbers(world: Path, tmp_path: Path) -> None:
    raw = write_files(
        world,
        tmp_path / "raw",
        {
            "customers.csv": "select * from customers",
            "orders.parquet": "select * replace (case when row_number() over () % 10 = 0 then 'twelve' "
            "else cast(amount as varchar) end as amount) from orders",
        },
    )
    result = run_check(parse_mapping(None), raw, tmp_path / "work", staging=False)
    (error,) = result.errors
    assert (error.table, error.file) == ("customers", "customers.parquet")
    assert "customers.csv is there" in error.message and "file: customers.csv" in error.fix
    (warning,) = [p for p in result.problems if p.column == "amount"]
    assert (warning.level, warning.table, warning.file) == ("warning", "orders", "orders.parquet")
    assert "text in a number column" in warning.message and "(10.0%)" in warning.message
    assert "unparseable_value" in warning.message


def test_an_empty_required_table_is_an_error(world: Path, tmp_path: Path) -> None:
    raw = write_files(
        world,
        tmp_path / "raw",
        {"customers.parquet": "select * from customers", "orders.parquet": "select * from orders limit 0"},
    )
    (error,) = run_check(parse_mapping(None), raw, tmp_path / "work").errors
    assert (error.table, error.file) == ("orders", "orders.parquet") and "empty table" in error.message


def test_an_unchanged_table_reuses_its_converted_copy_and_its_problems(world: Path, tmp_path: Path) -> None:
    """A second check of the same export reads no row again (the copies are the ones written first) and says the
    same; a changed file, a changed mapping or a touched copy is converted again."""
    mapping_file = write_csv_export(world, tmp_path / "export")
    mapping = load_mapping(mapping_file)
    work = tmp_path / "work"

    def check(mapping=mapping):
        result = run_check(mapping, tmp_path / "export", work, staging=False)
        stamps = {t: (work / "raw" / f"{t}.parquet").stat().st_mtime_ns for t in ("customers", "orders")}
        return sorted(p.format() for p in result.problems), result.rows, stamps

    problems, rows, first = check()
    assert rows["orders"] > 0 and any("dates run" in p for p in problems)
    # the same problems (today's date checks run again) and the same, untouched copies
    assert check() == (problems, rows, first)

    with (tmp_path / "export" / "kunden.csv").open("a") as f:
        f.write("K-NEW;01.01.2024 10:00:00.000000;DE;web;neu@example.com\n")
    problems2, rows2, stamps2 = check()
    assert rows2["customers"] == rows["customers"] + 1 and stamps2["customers"] != first["customers"]
    assert stamps2["orders"] == first["orders"]

    text = mapping_file.read_text().replace("when 'OK' then", "when 'DONE' then 'completed' when 'OK' then")
    reformatted = parse_mapping(yaml.safe_load(text))
    assert check(reformatted)[2]["orders"] != stamps2["orders"]  # another mapping of orders: converted again

    copy = work / "raw" / "orders.parquet"
    copy.write_bytes(copy.read_bytes())  # a copy touched by someone else is not trusted: converted again
    touched = copy.stat().st_mtime_ns
    _, rows4, stamps4 = check(reformatted)
    assert rows4["orders"] == rows["orders"] and stamps4["orders"] != touched


def test_a_day_first_date_without_a_format_names_the_format(world: Path, tmp_path: Path) -> None:
    mapping_file = write_csv_export(world, tmp_path)
    text = mapping_file.read_text().replace('date_format: ["%d/%m/%Y %H:%M:%S.%f", "%d/%m/%Y"]', "")
    mapping = parse_mapping(yaml.safe_load(text))
    result = run_check(mapping, tmp_path, tmp_path / "work", staging=False)
    (error,) = [p for p in result.errors if p.column == "ordered_at"]
    assert "mistyped column" in error.message and "'%d/%m/%Y %H:%M:%S.%f'" in error.fix


def test_too_short_a_history_names_the_minimum(world: Path, tmp_path: Path) -> None:
    raw = write_files(
        world,
        tmp_path / "raw",
        {
            "customers.parquet": "select * from customers",
            "orders.parquet": "select * from orders where ordered_at < date '2024-07-01'",
        },
    )
    result = run_check(parse_mapping(None), raw, tmp_path / "work", {"max_valid_date": "2030-01-01"})
    (error,) = result.errors
    assert "Too little history for a 90-day churn horizon" in error.message
    assert (
        "302 days from the first to the last order are always enough" in error.message
        and "churn_horizon_days" in error.message
    )


def test_mapping_file_errors_are_named() -> None:
    with pytest.raises(MappingError, match="unknown table"):
        parse_mapping({"tables": {"order": {}}})
    with pytest.raises(MappingError, match="not in the contract"):
        parse_mapping({"tables": {"orders": {"columns": {"total": "x"}}}})
    with pytest.raises(MappingError, match="source_system"):
        parse_mapping({"source_system": "shopify"})
    with pytest.raises(MappingError, match="file name"):
        parse_mapping({"name": "../shop"})


def test_a_latin1_csv_is_named_with_the_encoding_to_set(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_bytes(
        "customer_id,signup_at,country\nC1,2024-01-01,Espa\xf1a\n".encode("latin-1")
    )
    mapping = parse_mapping({"tables": {"customers": {"file": "customers.csv"}}})
    problems = [
        p
        for p in run_check(mapping, tmp_path, tmp_path / "work", staging=False).errors
        if p.table == "customers"
    ]
    assert len(problems) == 1 and "encoding" in problems[0].fix
    latin = parse_mapping(
        {"tables": {"customers": {"file": "customers.csv", "formats": {"csv": {"encoding": "latin-1"}}}}}
    )
    assert not [
        p
        for p in run_check(latin, tmp_path, tmp_path / "work", staging=False).errors
        if p.table == "customers"
    ]


def test_no_workplace_paths_in_the_product() -> None:
    """The product never points at this team's shared folder: users download the public data themselves."""
    files = [REPO_ROOT / "dbt_project.yml", REPO_ROOT / "README.md", REPO_ROOT / "Makefile"]
    files += [*(REPO_ROOT / "python_jobs").rglob("*.py"), *(REPO_ROOT / "examples").rglob("*.yml")]
    files += [*(REPO_ROOT / "models").rglob("*.yml"), *(REPO_ROOT / "models").rglob("*.sql")]
    assert [str(f) for f in files if "../shared" in f.read_text(encoding="utf-8")] == []


def test_example_mappings_load() -> None:
    for name in ("online_retail_i", "online_retail_ii", "template"):
        mapping = load_mapping(EXAMPLES / f"{name}.yml")
        assert mapping.tables
    assert load_mapping(EXAMPLES / "online_retail_i.yml").vars["eval_snapshot_date"] == "2011-09-01"
    assert "eval_snapshot_date" not in load_mapping(EXAMPLES / "online_retail_ii.yml").vars


@pytest.mark.real_data
def test_online_retail_ii_file_from_another_period_builds_with_the_example_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Online Retail II's column names, a CSV as pandas writes it (Customer ID 13085.0), dates a year earlier,
    no date vars: `churn build` with the shipped mapping runs first try and names its report."""
    data = shared_data("online_retail", "online_retail_I_2010-2011.parquet")
    raw = tmp_path / "raw"
    raw.mkdir()
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                select InvoiceNo as Invoice, StockCode, Description, Quantity,
                       InvoiceDate - interval 1 year as InvoiceDate, UnitPrice as Price,
                       CustomerID as "Customer ID", Country
                from '{data}'
                where CustomerID is null and hash(InvoiceNo) % 20 = 0 or hash(CustomerID) % 6 = 0
            ) to '{raw}/online_retail_ii.csv' (header)
            """
        )
    for key, value in dbt_env(tmp_path / "work").items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("CHURN_REPORT_PATH")
    result = CliRunner().invoke(
        main, ["build", "--mapping", str(EXAMPLES / "online_retail_ii.yml"), "--raw-path", str(raw)]
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "out-of-time test snapshot 2010-09-01" in result.output
    assert f"Report: {tmp_path / 'work' / 'churn_report.html'}" in result.output
    with duckdb.connect(str(tmp_path / "work" / "churn.duckdb"), read_only=True) as con:
        eval_date, n = con.execute(
            "select max(eval_snapshot_date), max(n_rows) from reports.rpt_model_comparison"
        ).fetchone()
    assert str(eval_date) == "2010-09-01" and n > 300

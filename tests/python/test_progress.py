import logging
import time

from python_jobs.progress import Progress


def test_progress_line_reports_done_total_rate_and_eta():
    p = Progress(total=200, label="tagging", unit="texts")
    p.update(50)
    line = p.line()
    assert "tagging: 50/200 texts (25%)" in line
    assert "texts/s" in line and "ETA" in line
    p.close()


def test_progress_outside_a_terminal_is_plain_log_lines(caplog, capsys):
    """dbt captures Python model output: no carriage returns or bar glyphs, one line per interval, a final line."""
    with (
        caplog.at_level(logging.INFO, logger="python_jobs.progress"),
        Progress(total=1000, label="embedding", unit="texts", every_s=0.05) as p,
    ):
        for _ in range(10):
            time.sleep(0.02)
            p.update(100)
    lines = [r.getMessage() for r in caplog.records]
    assert 2 <= len(lines) <= 10
    assert all(line.startswith("embedding: ") for line in lines)
    assert not any("\r" in line or "|" in line for line in lines)
    assert lines[-1].startswith("embedding: 1,000/1,000 texts (100%)") and "done in" in lines[-1]
    captured = capsys.readouterr()
    assert "\r" not in captured.err and "\r" not in captured.out

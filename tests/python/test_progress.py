from python_jobs.progress import Progress


def test_progress_line_reports_done_total_rate_and_eta():
    p = Progress(total=200, label="tagging", unit="texts")
    p.update(50)
    line = p.line()
    assert "tagging: 50/200 texts (25%)" in line
    assert "texts/s" in line and "ETA" in line

"""Print the browser test's latency table (build/latency.txt) at the end of a run that wrote it."""
import time

from tools._paths import BUILD

_STARTED = time.time()


def pytest_terminal_summary(terminalreporter):
    table = BUILD / "latency.txt"
    if table.exists() and table.stat().st_mtime >= _STARTED:
        terminalreporter.write_sep("=", "explorer latency in the browser (build/latency.json)")
        terminalreporter.write_line(table.read_text().rstrip())

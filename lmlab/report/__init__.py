"""Reports: plots (matplotlib, rendered off-screen) and self-contained HTML pages."""

"""Report layer: the daily HTML/Markdown report, the alert rules and their dispatch, the range backtest."""

__all__: list[str] = []

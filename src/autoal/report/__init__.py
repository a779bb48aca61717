"""Reports from run files alone: aggregation, statistics, markdown, csv and figures."""

"""Reports: contact KPIs per interval in the tenant's time zone, exports, charts and the monthly summary
(docs/reports.md)."""

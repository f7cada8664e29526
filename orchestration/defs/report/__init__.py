"""What people look at: Parquet files for BI tools and an HTML report with charts."""

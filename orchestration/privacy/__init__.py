"""Privacy engines that work without Dagster: erasure (`leadscore forget`)."""

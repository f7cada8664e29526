"""The predictive score as an asset of the refresh (group predictive)."""

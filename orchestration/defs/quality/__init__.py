"""Data-quality gates beyond dbt's tests, in front of everything that leaves the warehouse."""

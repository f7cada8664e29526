"""Synthetic demo data: CRM and marketing landing files with a hidden ground truth."""

from orchestration.demo.generator import GenerationResult, generate_demo_data

__all__ = ["GenerationResult", "generate_demo_data"]

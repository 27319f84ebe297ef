"""Timing forward passes on CUDA or the CPU, beside the analytic cost and the roofline."""

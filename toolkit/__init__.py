"""Leanserve: compress a transformer, package it for Triton and plan its cheapest SLA-meeting endpoint."""

__version__ = "0.1.0"

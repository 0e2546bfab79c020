"""Benchmarks behind `nnplug bench`."""

"""Imports fine but has no callable handle."""

handle = "not a function"

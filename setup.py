"""Shim for scrapyd-deploy, which builds an egg through setup.py; the project is described in pyproject.toml."""

from setuptools import setup

setup()

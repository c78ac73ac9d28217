"""Make the lab package (tests/hvlab) importable as ``hvlab`` in every test session."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

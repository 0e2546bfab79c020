import os
import sys

# test helpers (strategies, fixtures) live beside the tests
sys.path.insert(0, os.path.dirname(__file__))

import os
import sys

import pytest

# test helpers (strategies, fixtures) live beside the tests
sys.path.insert(0, os.path.dirname(__file__))

# Fixtures that hand a test the built plugin: a test using one, directly or through another
# fixture, is marked `needs_plugin` (tests that reach the build otherwise are marked by hand).
PLUGIN_FIXTURES = {"vst3", "preset_bundle"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if PLUGIN_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.needs_plugin)

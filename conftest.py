import pytest

from kiungo.lib.testing import build_world


@pytest.fixture
def world(db):
    return build_world()

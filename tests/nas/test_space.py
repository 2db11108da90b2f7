"""The search space: ids, one-hot, sampling."""
import numpy as np
import pytest

from minas.nas import space
from minas.nas.space import Architecture


def test_options_match_thesis():
    assert space.OPTIONS[0] == 10 and space.OPTIONS[-1] == 120 and len(space.OPTIONS) == 23
    assert space.ONE_HOT_SIZE == 92


def test_id_roundtrip_and_one_hot():
    a = Architecture((115, 90, 70, 10))
    assert a.id == "115-90-70-10"
    assert space.parse_architecture(a.id) == a
    oh = a.one_hot().reshape(4, 23)
    assert oh.sum() == 4 and oh[0, space.OPTIONS.index(115)] == 1 and oh[3, 0] == 1


@pytest.mark.parametrize("bad", [(10, 20, 30), (10, 20, 30, 125), (10, 20, 30, 12)])
def test_invalid_architectures(bad):
    with pytest.raises(ValueError, match="layers|search space"):
        Architecture(bad)


def test_parse_error_names_format():
    with pytest.raises(ValueError, match="115-90-70-10"):
        space.parse_architecture("a-b")


def test_sampling_matches_prior():
    prior = np.full((4, 23), 0.0)
    prior[:, 3] = 0.7
    prior[:, 10] = 0.3
    archs = space.sample_architectures(4000, np.random.default_rng(0), prior)
    idx = np.array([a.indices for a in archs])
    share = (idx == 3).mean(axis=0)
    assert np.allclose(share, 0.7, atol=0.03)
    assert set(np.unique(idx)) == {3, 10}


def test_uniform_sampling_is_seeded_and_covers_options():
    a = space.sample_architectures(500, np.random.default_rng(1))
    b = space.sample_architectures(500, np.random.default_rng(1))
    assert a == b
    assert len({x.filters[0] for x in a}) == 23


def test_bad_prior():
    with pytest.raises(ValueError, match="shape"):
        space.check_prior(np.ones((4, 22)))
    with pytest.raises(ValueError, match="sum to 1"):
        space.check_prior(np.ones((4, 23)))

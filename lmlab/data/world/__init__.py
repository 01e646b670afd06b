"""The embedded world: a synthetic Spanish/English world with exact ground truth.

    from lmlab.data.world import World
    world = World(seed=0)
    splits = world.lm_splits(20_000, 2_000, 2_000)
    floor = world.entropy_floor(splits.test)      # bits/token and perplexity no model can beat

See docs/world.md for the frames of the grammar, the vocabulary and how to scale difficulty.
"""

from lmlab.data.world.analogies import Analogy
from lmlab.data.world.grammar import Grammar, GrammarConfig
from lmlab.data.world.probes import ClozeProbe
from lmlab.data.world.world import EntropyFloor, LMSentence, LMSplits, World

__all__ = ["Analogy", "ClozeProbe", "EntropyFloor", "Grammar", "GrammarConfig", "LMSentence", "LMSplits",
           "World"]

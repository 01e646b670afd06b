"""One Trainer for every neural model (`trainer.py`), objectives (`objectives.py`), schedules,
exact checkpoints and data parallelism. See `docs/training.md`.

    from lmlab.train import Trainer, TrainConfig
    from lmlab.train.objectives import causal_lm
"""

from lmlab.train.trainer import History, TrainConfig, Trainer, TrainingDiverged

__all__ = ["History", "TrainConfig", "Trainer", "TrainingDiverged"]

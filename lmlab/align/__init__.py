"""Alignment: supervised fine-tuning, LoRA adapters, reward models and DPO.

    from lmlab.align import read_sft_data, sft, sft_eval, LoRAConfig
    data = read_sft_data("alpaca.json")                      # every row checked, bad ones reported
    model, history = sft(model, data.examples, template="alpaca", lora=LoRAConfig(rank=8),
                         max_steps=300, out_dir="runs/sft")
    sft_eval(model, held_out).per_task                       # greedy exact match per task

    rm, _ = train_reward(base, read_preferences("pares.jsonl").pairs, TrainConfig(max_steps=200))
    policy, _ = dpo(model, pairs, TrainConfig(max_steps=200), beta=0.1)   # frozen reference copy

See docs/alignment.md. PPO and GRPO have their pure loss pieces in `lmlab.align.losses`; their
training loops are planned.
"""

from lmlab.align.data import (
    DataReport,
    SFTData,
    SFTExample,
    alpaca_messages,
    read_sft_data,
    world_examples,
    write_jsonl,
)
from lmlab.align.dpo import DPOObjective, dpo, sequence_logps
from lmlab.align.evaluate import ExactMatchReport, answer, sft_eval
from lmlab.align.format import ChatFormat, Encoded
from lmlab.align.lora import (
    LoRAConfig,
    LoRAInfo,
    LoRALinear,
    apply_lora,
    count_parameters,
    load_adapters,
    merge_lora,
    save_adapters,
)
from lmlab.align.losses import bradley_terry_loss, dpo_loss
from lmlab.align.preferences import (
    PreferencePair,
    read_preferences,
    split_pairs,
    world_preferences,
    write_preferences,
)
from lmlab.align.reward import RewardModel, reward_accuracy, train_reward
from lmlab.align.sft import SFTBatches, completion_lm, completion_loss, encode_examples, sft

__all__ = [
    "ChatFormat",
    "DPOObjective",
    "DataReport",
    "Encoded",
    "ExactMatchReport",
    "LoRAConfig",
    "LoRAInfo",
    "LoRALinear",
    "PreferencePair",
    "RewardModel",
    "SFTBatches",
    "SFTData",
    "SFTExample",
    "alpaca_messages",
    "answer",
    "apply_lora",
    "bradley_terry_loss",
    "completion_lm",
    "completion_loss",
    "count_parameters",
    "dpo",
    "dpo_loss",
    "encode_examples",
    "load_adapters",
    "merge_lora",
    "read_preferences",
    "read_sft_data",
    "reward_accuracy",
    "save_adapters",
    "sequence_logps",
    "sft",
    "sft_eval",
    "split_pairs",
    "train_reward",
    "world_examples",
    "world_preferences",
    "write_jsonl",
    "write_preferences",
]

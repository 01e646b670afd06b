"""Alignment: supervised fine-tuning on instructions and conversations, LoRA adapters.

    from lmlab.align import read_sft_data, sft, sft_eval, LoRAConfig
    data = read_sft_data("alpaca.json")                      # every row checked, bad ones reported
    model, history = sft(model, data.examples, template="alpaca", lora=LoRAConfig(rank=8),
                         max_steps=300, out_dir="runs/sft")
    sft_eval(model, held_out).per_task                       # greedy exact match per task

See docs/alignment.md. Reward models, DPO, PPO and GRPO are planned here as objectives too.
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
from lmlab.align.sft import SFTBatches, completion_lm, completion_loss, encode_examples, sft

__all__ = [
    "ChatFormat", "DataReport", "Encoded", "ExactMatchReport", "LoRAConfig", "LoRAInfo",
    "LoRALinear", "SFTBatches", "SFTData", "SFTExample", "alpaca_messages", "answer", "apply_lora",
    "completion_lm", "completion_loss", "count_parameters", "encode_examples", "load_adapters",
    "merge_lora", "read_sft_data", "save_adapters", "sft", "sft_eval", "world_examples",
    "write_jsonl",
]

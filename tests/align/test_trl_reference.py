"""The completion-only loss equals TRL's SFTTrainer loss (completion_only_loss) on the same batch."""

from __future__ import annotations

import pytest
import torch

from lmlab.align import ChatFormat, SFTBatches, completion_loss, encode_examples, world_examples


def test_completion_loss_equals_trl_sft_trainer_loss(gpt, tmp_path):
    trl = pytest.importorskip("trl")
    datasets = pytest.importorskip("datasets")
    transformers = pytest.importorskip("transformers")
    from lmlab.io.hf import export_hf

    export_hf(gpt, tmp_path / "base")
    fmt = ChatFormat.for_model(gpt, "zephyr")
    enc, _ = encode_examples(world_examples(6, tasks=("capital", "plural", "sentimiento")), fmt,
                             max_len=384)
    rows = [{"input_ids": e.ids, "completion_mask": [int(x) for x in e.labels]} for e in enc]
    hf_tok = transformers.PreTrainedTokenizerFast(tokenizer_object=gpt.tokenizer, pad_token="[PAD]",
                                                  eos_token="</s>", bos_token="<s>")
    hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "base").eval()
    args = trl.SFTConfig(output_dir=str(tmp_path / "trl"), completion_only_loss=True,
                         per_device_train_batch_size=len(rows), report_to=[], use_cpu=True,
                         max_length=None, dataloader_num_workers=0)
    trainer = trl.SFTTrainer(model=hf, args=args, train_dataset=datasets.Dataset.from_list(rows),
                             processing_class=hf_tok)
    batch = next(iter(trainer.get_train_dataloader()))
    with torch.no_grad():
        theirs = trainer.compute_loss(trainer.model.eval(), batch)
        ours, n = completion_loss(gpt, SFTBatches(enc, len(enc), pad_id=0)[0])
    assert n == int((batch["labels"][:, 1:] != -100).sum())
    assert float(theirs) == pytest.approx(float(ours), rel=1e-5)

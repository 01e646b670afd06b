"""DPO / cDPO / IPO and Bradley-Terry losses: hand-computed values, and TRL's DPOTrainer loss on
the same tiny models and batch."""

from __future__ import annotations

import math

import pytest
import torch

from lmlab.align.dpo import DPOObjective, frozen_copy, pair_logps
from lmlab.align.losses import (
    AdaptiveKL,
    bradley_terry_loss,
    dpo_loss,
    gae,
    group_advantages,
    kl_penalized_rewards,
    ppo_policy_loss,
    ppo_value_loss,
    whiten,
)
from lmlab.errors import ConfigError
from tests.align.conftest import tiny_gpt


def _t(*values):
    return torch.tensor(values, dtype=torch.float64)


def test_policy_equal_to_reference_gives_ln2_and_zero_rewards():
    pc, pr = _t(-3.0, -10.0, -0.5), _t(-4.0, -1.0, -7.0)
    losses, rc, rr = dpo_loss(pc, pr, pc.clone(), pr.clone(), beta=0.3)
    assert losses.tolist() == pytest.approx([math.log(2)] * 3)
    assert rc.tolist() == [0.0] * 3 and rr.tolist() == [0.0] * 3
    ipo, _, _ = dpo_loss(pc, pr, pc.clone(), pr.clone(), beta=0.25, loss_type="ipo")
    assert ipo.tolist() == pytest.approx([1 / (4 * 0.25**2)] * 3)  # (0 - 1/(2 beta))^2 = 4


def test_sigmoid_cdpo_and_ipo_by_hand():
    # h = (pc - rc) - (pr - rr) = (-2 + 3) - (-5 + 4) = 1 - (-1) = 2
    pc, pr, rc, rr = _t(-2.0), _t(-5.0), _t(-3.0), _t(-4.0)
    beta = 0.5
    losses, r_c, r_r = dpo_loss(pc, pr, rc, rr, beta=beta)
    assert float(losses) == pytest.approx(math.log(1 + math.exp(-1.0)))  # -log sigmoid(0.5 * 2)
    assert float(r_c) == pytest.approx(0.5) and float(r_r) == pytest.approx(-0.5)
    smooth, _, _ = dpo_loss(pc, pr, rc, rr, beta=beta, label_smoothing=0.2)
    expected = 0.8 * math.log(1 + math.exp(-1.0)) + 0.2 * math.log(1 + math.exp(1.0))
    assert float(smooth) == pytest.approx(expected)
    ipo, _, _ = dpo_loss(pc, pr, rc, rr, beta=beta, loss_type="ipo")
    assert float(ipo) == pytest.approx((2 - 1 / (2 * beta)) ** 2)  # (2 - 1)^2 = 1
    per_token, _, _ = dpo_loss(pc, pr, rc, rr, beta=beta, loss_type="ipo",
                               chosen_tokens=_t(2.0), rejected_tokens=_t(4.0))
    assert float(per_token) == pytest.approx((1 / 2 - (-1) / 4 - 1) ** 2)  # (0.75 - 1)^2


def test_dpo_gradient_raises_chosen_and_lowers_rejected():
    pc, pr = _t(-2.0).requires_grad_(), _t(-2.0).requires_grad_()
    losses, _, _ = dpo_loss(pc, pr, _t(-2.0), _t(-2.0), beta=0.1)
    losses.sum().backward()
    assert float(pc.grad) == pytest.approx(-0.05) and float(pr.grad) == pytest.approx(0.05)


def test_bradley_terry_by_hand_with_and_without_margin():
    losses = bradley_terry_loss(_t(1.0, 0.0), _t(0.0, 0.0))
    assert losses.tolist() == pytest.approx([math.log(1 + math.exp(-1.0)), math.log(2)])
    margin = bradley_terry_loss(_t(1.0), _t(0.0), margin=_t(1.0))
    assert float(margin) == pytest.approx(math.log(2))


def test_bad_options_are_one_line_errors():
    z = _t(0.0)
    for kwargs in ({"loss_type": "hinge"}, {"beta": 0.0}, {"label_smoothing": 0.5},
                   {"loss_type": "ipo", "label_smoothing": 0.1}):
        with pytest.raises(ConfigError) as err:
            dpo_loss(z, z, z, z, **kwargs)
        assert "\n" not in str(err.value) and "use" in str(err.value)


@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo"])
def test_dpo_objective_equals_trl_dpo_trainer_loss(tokenizer, tmp_path, loss_type):
    trl = pytest.importorskip("trl")
    datasets = pytest.importorskip("datasets")
    transformers = pytest.importorskip("transformers")
    from lmlab.io.hf import export_hf

    policy = tiny_gpt(tokenizer)
    reference = tiny_gpt(tokenizer)
    with torch.no_grad():  # a reference different from the policy, so the loss is not ln 2
        for p in reference.parameters():
            p.add_(0.05 * torch.randn_like(p))
    export_hf(policy, tmp_path / "policy")
    export_hf(reference, tmp_path / "ref")
    rows = [{"prompt": "capital de Italia?", "chosen": " Roma", "rejected": " Estocolmo y Oslo"},
            {"prompt": "plural de casa?", "chosen": " casas", "rejected": " casa"},
            {"prompt": "idioma de Francia?", "chosen": " francés", "rejected": " griego"}]
    hf_tok = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="[PAD]",
                                                  eos_token="</s>", bos_token="<s>")
    load = transformers.AutoModelForCausalLM.from_pretrained
    args = trl.DPOConfig(output_dir=str(tmp_path / "trl"), beta=0.2, loss_type=[loss_type],
                         per_device_train_batch_size=len(rows), report_to=[], use_cpu=True,
                         max_length=None, dataloader_num_workers=0, bf16=False)
    trainer = trl.DPOTrainer(model=load(tmp_path / "policy").eval(),
                             ref_model=load(tmp_path / "ref").eval(), args=args,
                             train_dataset=datasets.Dataset.from_list(rows), processing_class=hf_tok)
    batch = next(iter(trainer.get_train_dataloader()))
    with torch.no_grad():
        theirs = trainer.compute_loss(trainer.model.eval(), batch)
    b = len(rows)
    ids, labels = batch["input_ids"], batch["completion_mask"].bool()
    ours_batch = {"chosen_ids": ids[:b], "rejected_ids": ids[b:],
                  "chosen_labels": labels[:b], "rejected_labels": labels[b:]}
    objective = DPOObjective(frozen_copy(reference), beta=0.2, loss_type=loss_type)
    with torch.no_grad():
        ours, metrics = objective(policy, ours_batch)
        chosen, _, _, _ = pair_logps(policy, ours_batch)
    assert float(theirs) == pytest.approx(float(ours), rel=1e-5)
    assert float(ours) != pytest.approx(math.log(2) if loss_type == "sigmoid" else 6.25, rel=1e-3)
    assert torch.isfinite(chosen).all() and metrics["n"] == b


# ---- PPO / GRPO pieces ------------------------------------------------------------------------
def test_gae_on_a_hand_worked_example():
    # one sequence of 3 tokens, gamma 0.9, lam 0.5; V = (1, 2, 3), r = (0, 0, 1), V_4 = 0
    rewards, values = _t(0.0, 0.0, 1.0)[None], _t(1.0, 2.0, 3.0)[None]
    adv, ret = gae(rewards, values, gamma=0.9, lam=0.5)
    d3 = 1.0 - 3.0                # -2
    d2 = 0.0 + 0.9 * 3.0 - 2.0    # 0.7
    d1 = 0.0 + 0.9 * 2.0 - 1.0    # 0.8
    a3, a2 = d3, d2 + 0.45 * d3
    a1 = d1 + 0.45 * a2
    assert adv[0].tolist() == pytest.approx([a1, a2, a3])
    assert ret[0].tolist() == pytest.approx([a1 + 1, a2 + 2, a3 + 3])
    padded, _ = gae(torch.cat([rewards, _t(5.0)[None]], 1), torch.cat([values, _t(7.0)[None]], 1),
                    torch.tensor([[True, True, True, False]]), gamma=0.9, lam=0.5)
    assert padded[0].tolist() == pytest.approx([a1, a2, a3, 0.0])  # padding changes nothing


def test_kl_penalty_ppo_clipping_whitening_adaptive_kl_and_group_advantages():
    mask = torch.tensor([[True, True, False]])
    rewards, kl = kl_penalized_rewards(_t(2.0), _t(-1.0, -2.0, 0.0)[None], _t(-1.5, -1.0, 0.0)[None],
                                       mask, kl_coef=0.1)
    assert kl[0].tolist() == pytest.approx([0.5, -1.0, 0.0])
    assert rewards[0].tolist() == pytest.approx([-0.05, 0.1 + 2.0, 0.0])
    adv = _t(1.0, -1.0)
    loss, clipped = ppo_policy_loss(torch.log(_t(1.5, 1.5)), _t(0.0, 0.0), adv, clip=0.2)
    assert float(loss) == pytest.approx((-1.2 + 1.5) / 2) and float(clipped) == 0.5
    value = ppo_value_loss(_t(2.0), _t(1.0), _t(0.0), clip=0.2)
    assert float(value) == pytest.approx(0.5 * 4.0)  # max((2-0)^2, (1.2-0)^2)
    w = whiten(_t(1.0, 2.0, 3.0, 100.0), torch.tensor([True, True, True, False]))
    assert w[:3].tolist() == pytest.approx([-1.2247, 0.0, 1.2247], abs=1e-3)
    ctl = AdaptiveKL(0.1, target=6.0, horizon=100)
    assert ctl.update(12.0, 10) == pytest.approx(0.1 * 1.02)  # error clipped to +0.2
    assert AdaptiveKL(0.1, target=None).update(50.0, 10) == 0.1
    g = group_advantages(_t(1.0, 0.0, 0.0, 1.0, 1.0, 1.0).reshape(2, 3))
    assert g[1].tolist() == [0.0, 0.0, 0.0] and g[0].sum().item() == pytest.approx(0.0, abs=1e-6)
    assert float(g[0, 0]) > 0 > float(g[0, 1])

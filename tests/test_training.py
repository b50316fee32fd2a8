"""helpers.training: fit, evaluate, predict on small problems the tests make."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers import TensorBatches, evaluate, fit, predict, set_seed
from helpers.metrics import binary_accuracy_logits, multiclass_accuracy


def linear_problem(n: int = 200, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1
    return x, y


def test_fit_learns_and_returns_a_complete_history():
    set_seed(0)
    x, y = linear_problem()
    model = nn.Linear(4, 1)
    history = fit(
        model, TensorBatches(x[:150], y[:150], 16), nn.MSELoss(), torch.optim.Adam(model.parameters(), 0.05),
        epochs=30, val_data=TensorBatches(x[150:], y[150:], 64, shuffle=False), progress=False,
    )
    assert list(history.columns) == ["epoch", "train_loss", "val_loss", "lr", "seconds"]
    assert history["epoch"].tolist() == list(range(1, 31))
    assert history["val_loss"].iloc[-1] < 0.01 < history["val_loss"].iloc[0]
    assert (history["seconds"] > 0).all()


def test_losses_and_metrics_are_weighted_by_sample_count():
    # 5 samples in batches of 2, 2, 1: a plain mean of batch means would weight the last one double.
    x = torch.zeros(5, 1)
    y = torch.tensor([[0.0], [0.0], [0.0], [0.0], [10.0]])
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    scores = evaluate(model, TensorBatches(x, y, 2, shuffle=False), nn.MSELoss(), {"mean_y": lambda p, t: t.mean().item()})
    assert scores["loss"] == pytest.approx(100 / 5)
    assert scores["mean_y"] == pytest.approx(2.0)


def test_metrics_columns_for_train_and_validation():
    set_seed(1)
    x = torch.randn(120, 2)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    history = fit(
        model, TensorBatches(x, y, 32), nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), 0.05),
        epochs=15, val_data=TensorBatches(x, y, 64), metrics={"acc": multiclass_accuracy}, progress=False,
    )
    assert {"train_acc", "val_acc"} <= set(history.columns)
    assert history["val_acc"].iloc[-1] > 0.9


def test_modes_are_used_and_restored():
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(1, 1)

        def forward(self, x):
            seen.append((self.training, torch.is_grad_enabled(), torch.is_inference_mode_enabled()))
            return self.linear(x)

    model = Spy()
    data = TensorBatches(torch.ones(4, 1), torch.ones(4, 1), 4)
    fit(model, data, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), epochs=1, val_data=data, progress=False)
    check, train, val = seen
    assert check == (False, False, False)  # pitfall check: eval mode, no gradients
    assert train == (True, True, False)
    assert val == (False, False, True)  # evaluation under inference_mode
    model.train()
    predict(model, torch.ones(3, 1))
    assert seen[-1] == (False, False, True) and model.training  # mode restored


def test_scheduler_steps_per_batch_or_per_epoch():
    x, y = linear_problem(40)
    for interval, expected_steps in (("batch", 4 * 3), ("epoch", 3)):
        model = nn.Linear(4, 1)
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5**step)
        history = fit(model, TensorBatches(x, y, 10), nn.MSELoss(), opt, epochs=3, scheduler=sched,
                      scheduler_interval=interval, progress=False)
        assert sched.last_epoch == expected_steps
        assert opt.param_groups[0]["lr"] == pytest.approx(0.5**expected_steps)
        assert history["lr"].is_monotonic_decreasing


def test_divergence_names_the_epoch_and_suggests_a_lower_learning_rate():
    x, y = linear_problem()
    model = nn.Linear(4, 1)
    with pytest.raises(FloatingPointError, match=r"became (inf|nan) in epoch [1-5]: training diverged.*lower learning rate"):
        fit(model, TensorBatches(x * 1e3, y, 200), nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=1e6),
            epochs=5, progress=False, check=False)


def test_keyboard_interrupt_returns_partial_history_and_keeps_weights(capsys):
    x, y = linear_problem(40)
    model = nn.Linear(4, 1)
    batches_seen = 0

    class StopInEpochThree(TensorBatches):
        def __iter__(self):
            nonlocal batches_seen
            for batch in super().__iter__():
                batches_seen += 1
                if batches_seen > 2 * len(self):
                    raise KeyboardInterrupt
                yield batch

    before = model.weight.detach().clone()
    history = fit(model, StopInEpochThree(x, y, 10), nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.01),
                  epochs=10, progress=False)
    assert history["epoch"].tolist() == [1, 2]
    assert not torch.equal(model.weight, before)
    assert "interrupted during epoch 3" in capsys.readouterr().out


def test_bad_arguments_and_empty_data():
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), 0.1)
    data = TensorBatches(torch.ones(2, 1), torch.ones(2, 1), 2)
    for epochs in (0, 1.5, True):
        with pytest.raises(ValueError, match="epochs must be a positive integer"):
            fit(model, data, nn.MSELoss(), opt, epochs=epochs)
    with pytest.raises(ValueError, match="scheduler_interval"):
        fit(model, data, nn.MSELoss(), opt, epochs=1, scheduler_interval="step")
    empty = TensorBatches(torch.ones(0, 1), torch.ones(0, 1), 2)
    with pytest.raises(ValueError, match="training data is empty"):
        fit(model, empty, nn.MSELoss(), opt, epochs=1)
    with pytest.raises(ValueError, match="data is empty"):
        evaluate(model, empty, nn.MSELoss())
    with pytest.raises(ValueError, match="no data"):
        predict(model, torch.ones(0, 1))


def test_fit_raises_on_broadcasting_shapes_before_training():
    model = nn.Linear(3, 1)
    before = model.weight.detach().clone()
    data = TensorBatches(torch.randn(8, 3), torch.randn(8), 4)  # targets (N,) against predictions (N, 1)
    with pytest.raises(ValueError, match=r"y.view\(-1, 1\)"):
        fit(model, data, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), epochs=1, progress=False)
    assert torch.equal(model.weight, before)  # nothing was trained


def test_predict_keeps_order_for_tensors_and_batches_and_logs(capsys):
    model = nn.Linear(2, 1)
    x = torch.randn(7, 2)
    expected = model(x).detach()
    assert torch.allclose(predict(model, x, batch_size=3), expected)
    assert torch.allclose(predict(model, TensorBatches(x, torch.zeros(7), 2, shuffle=False)), expected)
    fit(model, TensorBatches(x, torch.zeros(7, 1), 7), nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.01),
        epochs=4, log_every=2, progress=False, metrics={"acc": binary_accuracy_logits})
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[:2] for line in lines] == [["epoch", "2"], ["epoch", "4"]]


def test_fit_sees_the_same_batches_as_a_hand_written_loop_with_the_same_seed():
    x = torch.arange(12.0).reshape(12, 1)
    seen = []

    class Record(nn.Linear):
        def forward(self, inputs):
            if self.training:
                seen.append(inputs.reshape(-1).tolist())
            return super().forward(inputs)

    from helpers import TabularDataset

    def loader():
        return torch.utils.data.DataLoader(TabularDataset(x, x), batch_size=4, shuffle=True, generator=set_seed(5))

    model = Record(1, 1)
    fit(model, loader(), nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.0), epochs=1, progress=False)
    by_fit, seen[:] = list(seen), []
    for xb, _ in loader():
        model(xb)
    assert by_fit == seen


def test_fit_accepts_a_dataloader_and_moves_the_model_to_the_device():
    from helpers import TabularDataset

    x, y = linear_problem(32)
    loader = torch.utils.data.DataLoader(TabularDataset(x, y), batch_size=8, shuffle=True)
    model = nn.Linear(4, 1)
    history = fit(model, loader, nn.MSELoss(), torch.optim.Adam(model.parameters(), 0.01), epochs=2,
                  device=torch.device("cpu"), progress=False)
    assert len(history) == 2 and next(model.parameters()).device.type == "cpu"

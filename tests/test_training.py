"""helpers.training: train_one_epoch, evaluate, predict, fit, best_epoch, eval_mode; models.model_device."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
import torch
from torch import nn

from helpers.checks import PitfallWarning
from helpers.data import TabularDataset, TensorBatches
from helpers.metrics import multiclass_accuracy
from helpers.models import model_device
from helpers.seed import set_seed
from helpers.training import best_epoch, eval_mode, evaluate, fit, predict, train_one_epoch


def linear_problem(n: int = 200, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (n, 4) and exact linear targets (n, 1)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1


def zero_linear(features: int = 1) -> nn.Linear:
    model = nn.Linear(features, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    return model


class Spy(nn.Module):
    """A linear layer that records, for each forward pass, (training, grad enabled, inference mode)."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)
        self.seen: list[tuple[bool, bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append((self.training, torch.is_grad_enabled(), torch.is_inference_mode_enabled()))
        return self.linear(x)


def test_fit_learns_and_returns_one_row_per_epoch():
    set_seed(0)
    x, y = linear_problem()
    model = nn.Linear(4, 1)
    history = fit(
        model, TensorBatches(x[:150], y[:150], 30), nn.MSELoss(), torch.optim.Adam(model.parameters(), 0.1),
        epochs=20, val_data=TensorBatches(x[150:], y[150:], 64, shuffle=False), progress=False,
    )
    assert list(history.columns) == ["epoch", "train_loss", "val_loss", "seconds"]
    assert history["epoch"].tolist() == list(range(1, 21))
    assert history["val_loss"].iloc[-1] < 0.01 < history["val_loss"].iloc[0]
    assert (history["seconds"] > 0).all()


def test_metrics_get_train_and_val_columns():
    set_seed(1)
    x = torch.randn(120, 2)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    history = fit(
        model, TensorBatches(x, y, 32), nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), 0.05),
        epochs=15, val_data=TensorBatches(x, y, 64), metrics={"acc": multiclass_accuracy}, progress=False,
    )
    assert list(history.columns) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"]
    assert history["val_acc"].iloc[-1] > 0.9


def test_train_one_epoch_steps_once_per_batch_and_weights_by_sample_count():
    # 5 samples in batches of 2, 2, 1 and lr 0: the loss is the mean over samples, not over batches.
    x, y = torch.zeros(5, 1), torch.tensor([[0.0], [0.0], [0.0], [0.0], [10.0]])
    model = zero_linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    scores = train_one_epoch(model, TensorBatches(x, y, 2, shuffle=False), nn.MSELoss(), optimizer,
                             {"mean_y": lambda p, t: t.mean().item()}, scheduler=scheduler)
    assert scores == pytest.approx({"loss": 100 / 5, "mean_y": 2.0})
    assert scheduler.last_epoch == 3 and model.training


def test_evaluate_weights_by_sample_count_and_needs_no_loss():
    x, y = torch.zeros(5, 1), torch.tensor([[0.0], [0.0], [0.0], [0.0], [10.0]])
    data = TensorBatches(x, y, 2, shuffle=False)
    assert evaluate(zero_linear(), data, nn.MSELoss()) == pytest.approx({"loss": 20.0})
    mean_y = {"mean_y": lambda p, t: t.mean().item()}
    assert evaluate(zero_linear(), data, metrics=mean_y) == pytest.approx({"mean_y": 2.0})


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """Every tensor read into Python (``.item()``, ``.tolist()``, ``float()``): each one waits for a GPU."""
    seen: list[str] = []
    for name in ("item", "tolist", "__float__"):
        original = getattr(torch.Tensor, name)

        def read(self, *args, _name=name, _original=original):
            seen.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(torch.Tensor, name, read)
    return seen


def test_losses_and_course_metrics_are_read_once_per_pass(reads):
    set_seed(0)
    x, y = torch.randn(100, 2), torch.randint(0, 2, (100,))
    model = nn.Linear(2, 2)
    data = TensorBatches(x, y, 10)  # 10 batches
    scores = train_one_epoch(model, data, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), 0.1),
                             {"acc": multiclass_accuracy})
    assert reads == ["tolist"]
    reads.clear()
    assert evaluate(model, data, nn.CrossEntropyLoss(), {"acc": multiclass_accuracy}).keys() == {"loss", "acc"}
    assert reads == ["tolist"]
    assert 0 <= scores["acc"] <= 1 and scores["loss"] > 0
    with eval_mode(model):  # the sums over batches equal the metrics of the whole data
        pred = model(x)
    assert evaluate(model, data, nn.CrossEntropyLoss(), {"acc": multiclass_accuracy}) == pytest.approx(
        {"loss": nn.CrossEntropyLoss()(pred, y).item(), "acc": multiclass_accuracy(pred, y)})


def test_each_step_runs_in_the_right_mode():
    model = Spy()
    data = TensorBatches(torch.ones(4, 1), torch.ones(4, 1), 4)
    fit(model, data, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), epochs=1, val_data=data, progress=False)
    check, train, val = model.seen
    assert check == (False, False, True)  # the first-batch check: eval mode, no gradients
    assert train == (True, True, False)
    assert val == (False, False, True)


@pytest.mark.parametrize("start_in_train_mode", [True, False])
def test_eval_mode_restores_the_mode_even_after_an_error(start_in_train_mode):
    model = Spy().train(start_in_train_mode)
    with pytest.raises(RuntimeError), eval_mode(model):
        model(torch.ones(1, 1))
        raise RuntimeError("inside the block")
    assert model.seen == [(False, False, True)]
    assert model.training is start_in_train_mode


def test_predict_keeps_order_returns_cpu_outputs_and_restores_the_mode():
    model = Spy()
    x = torch.randn(7, 1)
    expected = model.linear(x).detach()
    out = predict(model, x, batch_size=3)
    assert out.device.type == "cpu" and torch.allclose(out, expected)
    assert len(model.seen) == 3 and model.training


def test_model_device():
    assert model_device(nn.Linear(1, 1)) == torch.device("cpu")
    assert model_device(nn.ReLU()) == torch.device("cpu")  # no parameters
    assert model_device(nn.Linear(1, 1, device="meta")).type == "meta"


def test_fit_refuses_n_shaped_targets_before_any_step():
    model = nn.Linear(3, 1)
    before = model.weight.detach().clone()
    data = TensorBatches(torch.randn(8, 3), torch.randn(8), 4)  # targets (N,) against predictions (N, 1)
    with pytest.raises(ValueError, match=r"y.view\(-1, 1\)"):
        fit(model, data, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), epochs=1, progress=False)
    assert torch.equal(model.weight, before)


def test_fit_warns_once_about_a_softmax_before_cross_entropy():
    x, y = torch.randn(16, 3), torch.randint(0, 3, (16,))
    model = nn.Sequential(nn.Linear(3, 3), nn.Softmax(dim=1))
    with pytest.warns(PitfallWarning, match="CrossEntropyLoss applies log-softmax itself") as caught:
        fit(model, TensorBatches(x, y, 8), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), 0.1),
            epochs=3, progress=False)
    assert len([w for w in caught if w.category is PitfallWarning]) == 1


def test_the_same_mistake_warns_again_on_every_run_at_the_line_that_called_fit():
    """A student who re-runs the cell must see the warning again. Python's default filter shows a
    warning once per source line, so the warning may not rely on it; and the line it points to is the
    caller's (here this file, in a notebook the student's cell), not the helpers' own code."""
    x, y = torch.randn(16, 3), torch.randint(0, 3, (16,))
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()  # no filter matches: Python's (and Jupyter's) default action, once per line
        for _ in range(2):  # the same cell, run twice
            model = nn.Sequential(nn.Linear(3, 3), nn.Softmax(dim=1))
            fit(model, TensorBatches(x, y, 8), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), 0.1),
                epochs=1, progress=False)
    pitfalls = [w for w in caught if w.category is PitfallWarning]
    assert len(pitfalls) == 2
    assert {w.filename for w in pitfalls} == {__file__}


def test_fit_refuses_bce_on_outputs_outside_0_1_before_any_step():
    model = nn.Linear(3, 1)  # no nn.Sigmoid: its outputs are not probabilities
    before = model.weight.detach().clone()
    data = TensorBatches(torch.randn(8, 3) * 5, torch.ones(8, 1), 4)
    with pytest.raises(ValueError, match="End the model with nn.Sigmoid"):
        fit(model, data, nn.BCELoss(), torch.optim.SGD(model.parameters(), 0.1), epochs=1, progress=False)
    assert torch.equal(model.weight, before)


def test_fit_stops_on_a_nan_loss_naming_the_epoch():
    x, y = linear_problem()
    model = nn.Linear(4, 1)
    with pytest.raises(FloatingPointError, match=r"became (inf|nan) in epoch [1-5]: training diverged.*smaller"):
        fit(model, TensorBatches(x * 1e3, y, 200), nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=1e6),
            epochs=5, progress=False)


def test_the_stop_button_stops_run_all_and_hands_over_the_finished_epochs(capsys):
    x, y = linear_problem(40)
    model = nn.Linear(4, 1)

    class StopInEpochThree(TensorBatches):
        batches_seen = 0

        def __iter__(self):
            for batch in super().__iter__():
                self.batches_seen += 1
                if self.batches_seen > 2 * len(self):
                    raise KeyboardInterrupt
                yield batch

    before = model.weight.detach().clone()
    with pytest.raises(KeyboardInterrupt) as stop:  # re-raised: Run All stops at this cell
        fit(model, StopInEpochThree(x, y, 10), nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.01),
            epochs=10, progress=False)
    assert stop.value.history["epoch"].tolist() == [1, 2]
    assert not torch.equal(model.weight, before)
    assert "stopped during epoch 3 of 10: 2 epoch(s) finished" in capsys.readouterr().out


def test_restore_best_ends_with_the_weights_of_the_best_epoch():
    # Trained towards y = 2x from w = 0, validated on y = x: the validation loss falls, then rises.
    x = torch.linspace(-1, 1, 32).reshape(-1, 1)
    model = zero_linear()
    history = fit(model, TensorBatches(x, 2 * x, 32), nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.3),
                  epochs=12, val_data=TensorBatches(x, x, 32), restore_best=True, progress=False)
    best = best_epoch(history)
    assert 1 < best < 12
    assert evaluate(model, TensorBatches(x, x, 32), nn.MSELoss())["loss"] == pytest.approx(history["val_loss"].min())


def test_restore_best_needs_validation_data():
    model = nn.Linear(1, 1)
    data = TensorBatches(torch.ones(2, 1), torch.ones(2, 1), 2)
    with pytest.raises(ValueError, match="restore_best=True needs val_data"):
        fit(model, data, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), epochs=1, restore_best=True)


def test_best_epoch_is_the_lowest_validation_loss_ties_to_the_earlier():
    history = pd.DataFrame({"epoch": [1, 2, 3, 4], "val_loss": [3.0, 1.0, 1.0, 2.0], "val_acc": [0.1, 0.5, 0.9, 0.2]})
    assert best_epoch(history) == 2
    assert best_epoch(history.assign(val_loss=[-x for x in history["val_acc"]])) == 3
    with pytest.raises(ValueError, match="train with val_data"):
        best_epoch(history.drop(columns="val_loss"))


@pytest.mark.parametrize("epochs", [0, 1.5, True])
def test_fit_refuses_a_bad_number_of_epochs(epochs):
    model = nn.Linear(1, 1)
    data = TensorBatches(torch.ones(2, 1), torch.ones(2, 1), 2)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        fit(model, data, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), epochs=epochs)


def test_empty_data_is_refused_everywhere():
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), 0.1)
    empty = TensorBatches(torch.ones(0, 1), torch.ones(0, 1), 2)
    with pytest.raises(ValueError, match="training data is empty"):
        fit(model, empty, nn.MSELoss(), opt, epochs=1, progress=False)
    with pytest.raises(ValueError, match="data is empty"):
        evaluate(model, empty, nn.MSELoss())
    with pytest.raises(ValueError, match="no inputs"):
        predict(model, torch.ones(0, 1))


def test_fit_on_a_dataloader_sees_the_batches_of_a_hand_written_loop_with_the_same_seed():
    x = torch.arange(12.0).reshape(12, 1)
    seen: list[list[float]] = []

    class Record(nn.Linear):
        def forward(self, inputs: torch.Tensor) -> torch.Tensor:
            if self.training:
                seen.append(inputs.reshape(-1).tolist())
            return super().forward(inputs)

    def loader() -> torch.utils.data.DataLoader:
        return torch.utils.data.DataLoader(TabularDataset(x, x), batch_size=4, shuffle=True, generator=set_seed(5))

    model = Record(1, 1)
    fit(model, loader(), nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.0), epochs=1, progress=False)
    by_fit, seen[:] = list(seen), []
    for xb, _ in loader():
        model(xb)
    assert by_fit == seen and len(seen) == 3

"""Checkers for notebook 05 (shapes through a CNN and an RNN). Each runs the student's code on fresh
inputs and names the shape mistake it sees.

    exercise_1  StridedCNN: a CNN class whose first Linear's in_features comes from the output size rule
    exercise_2  make_windows(series, window, horizon): (N,) -> x (R, window, 1), y (R, 1), R = N - window - horizon + 1
    exercise_3  split_in_time(x, y, n_test): the most recent n_test windows are the test part
    exercise_4  to_channels_first(x): (batch, height, width, channels) -> (batch, channels, height, width)
    exercise_5  rnn_by_hand(rnn, x): nn.RNN's loop over time, returning output and h_n
    exercise_6  the drill: a GRU built without batch_first, fixed
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import SimpleNamespace

import torch
from torch import nn

from helpers import notebook
from helpers.exercises import StudentError, Verdict, checker, correct, student, wrong
from helpers.i18n import tr

#: The settings cell's values (SEED and DEVICE aside) that the self-check's claims are about;
#: tests/test_repository.py keeps them equal to the notebook's.
DEFAULTS: dict[str, object] = {"CNN_EPOCHS": 2, "TRAIN_IMAGES": 10000, "VAL_SIZE": 5000, "BATCH_SIZE": 64,
                               "EPOCHS": 30, "LR": 0.01}


def claims_apply() -> bool:
    """Whether the self-check's claims apply to this run: the settings are ``DEFAULTS`` (any SEED).
    Else prints which settings differ."""
    return notebook.claims_apply(DEFAULTS)


def out_size(h: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """The output size rule of a convolution or pooling layer: (H + 2P - K) // S + 1."""
    return (h + 2 * padding - kernel) // stride + 1


#: Exercise 1's network: 28 -> conv 3, stride 2 -> 13 -> pool -> 6 (// rounds 6.5 down) -> conv 3, padding 1 -> 6;
#: 16 channels.
STRIDED_CNN_IN_FEATURES = 16 * 6 * 6


def _in_features_mistake(got: int) -> str:
    """What a wrong ``in_features`` of Exercise 1 most likely came from."""
    known = {
        16 * 7 * 7: tr("{got} = 16 x 7 x 7 rounds 13 / 2 = 6.5 up (or copies DigitCNN): // rounds down, so the "
                       "pooling gives (13 - 2) // 2 + 1 = 6.", got=got),
        16 * 13 * 13: tr("{got} = 16 x 13 x 13 halves the size only once: the stride-2 convolution gives (28 - 3) "
                         "// 2 + 1 = 13, and the pooling halves that again.", got=got),
        16 * 4 * 4: tr("{got} = 16 x 4 x 4 leaves out the second convolution's padding 1, which keeps 6 at 6.",
                       got=got),
        8 * 6 * 6: tr("{got} = 8 x 6 x 6 uses the first convolution's channels; after the flatten come the last "
                      "convolution's 16.", got=got),
        6 * 6: tr("{got} = 6 x 6 leaves out the channels: in_features is channels x height x width.", got=got),
    }
    return known.get(got, tr("{got} does not match: apply (H + 2P - K) // S + 1 to each of the three layers, from "
                             "28, then multiply channels x height x width.", got=got))


@checker("Exercise 1")
def exercise_1(model_class: Callable[[], nn.Module]) -> Verdict:
    """``StridedCNN``: conv 3 stride 2 (1 -> 8), ReLU, pool 2, conv 3 padding 1 (8 -> 16), ReLU, flatten,
    Linear(576, 10)."""
    model = student(model_class)
    if not isinstance(model, nn.Module):
        return wrong(tr("StridedCNN() made a {type_name}; write a class that subclasses nn.Module.",
                        type_name=type(model).__name__))
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if len(convs) != 2 or len(linears) != 1:
        return wrong(tr("Found {convs} nn.Conv2d and {linears} nn.Linear layers in __init__; the network has two "
                        "convolutions and one Linear.", convs=len(convs), linears=len(linears)))
    spec = [(c.in_channels, c.out_channels, c.kernel_size, c.padding, c.stride) for c in convs]
    expected = [(1, 8, (3, 3), (0, 0), (2, 2)), (8, 16, (3, 3), (1, 1), (1, 1))]
    if spec != expected:
        return wrong(tr("The convolutions are {spec} (in, out, kernel, padding, stride); the exercise asks for "
                        "{expected}.", spec=spec, expected=expected))
    fc = linears[0]
    if fc.out_features != 10:
        return wrong(tr("The Linear has {out} outputs; the network ends with 10 logits, one per digit.",
                        out=fc.out_features))
    if fc.in_features != STRIDED_CNN_IN_FEATURES:
        return wrong(tr("Your in_features is {got}, but each image has 16 x 6 x 6 = 576 numbers after the flatten. ",
                        got=fc.in_features) + _in_features_mistake(fc.in_features))
    for batch_size in (7, 1):
        x = torch.rand(batch_size, 1, 28, 28, generator=torch.Generator().manual_seed(batch_size))
        try:
            with torch.no_grad():
                out = student(model, x)
        except StudentError as error:
            return wrong(tr("Your in_features is right, but a batch (B, 1, 28, 28) raised {error} in forward. "
                            "Follow the layers in order: conv1, ReLU, pool, conv2, ReLU, flatten, fc.", error=error))
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (batch_size, 10):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            return wrong(tr("A batch of {batch_size} images gave {shape}; expected ({batch_size}, 10) logits.",
                            batch_size=batch_size, shape=shape))
    weights = sum(p.numel() for p in model.parameters())
    return correct(tr("The first Linear's in_features is 16 x 6 x 6 = 576; batches of 7 and 1 images give (B, 10) "
                      "logits; {weights:,} weights in all.", weights=weights))


@checker("Exercise 2")
def exercise_2(make_windows: Callable[[torch.Tensor, int, int], tuple[torch.Tensor, torch.Tensor]]) -> Verdict:
    """``make_windows(series, window, horizon)``: x (R, window, 1), y (R, 1) with R = N - window - horizon + 1;
    row i: series[i : i + window] and series[i + window + horizon - 1]."""
    for n, window, horizon in ((37, 5, 3), (50, 12, 6)):
        series = torch.randn(n, generator=torch.Generator().manual_seed(n))
        result = student(make_windows, series, window, horizon)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return wrong(tr("Your make_windows returned {type_name}; return two tensors: x, y.",
                            type_name=type(result).__name__))
        x, y = result
        rows = n - window - horizon + 1
        x_shape, y_shape = tuple(x.shape), tuple(y.shape)
        given = tr("a series of {n} with window {window} and horizon {horizon}", n=n, window=window, horizon=horizon)
        given_cap = given[:1].upper() + given[1:]  # at the start of a message
        if len(x_shape) >= 2 and x_shape[0] > rows and x_shape[1:2] == (window,):
            return wrong(tr("{given_cap} gave {got} windows: the last {extra} have no month {horizon} months after "
                            "them to predict. Count the windows whose target still lies in the series: {rows}.",
                            given_cap=given_cap, got=x_shape[0], extra=x_shape[0] - rows, horizon=horizon, rows=rows))
        if len(x_shape) >= 2 and x_shape[0] == rows - 1 and x_shape[1:2] == (window,):
            return wrong(tr("{given_cap} gave {got} windows, one too few: the target of window i is horizon months "
                            "after its last month i + window - 1, so it is series[i + window + horizon - 1], and "
                            "the last window's target is the series' last value ({rows} windows).",
                            given_cap=given_cap, got=x_shape[0], rows=rows))
        if x_shape == (rows, window):
            return wrong(tr("Your x is {x_shape}: the recurrent layer wants a features dimension at the end, "
                            "({rows}, {window}, 1). Add it with unsqueeze(-1).",
                            x_shape=x_shape, rows=rows, window=window))
        if x_shape != (rows, window, 1):
            return wrong(tr("Your x is {x_shape}; expected ({rows}, {window}, 1) for {given}.",
                            x_shape=x_shape, rows=rows, window=window, given=given))
        expected_x = torch.stack([series[i : i + window] for i in range(rows)]).unsqueeze(-1)
        if not torch.equal(x, expected_x):
            return wrong(tr("Your x has the right shape, but row i is not series[i : i + window]: the months moved."))
        if y_shape == (rows,):
            return wrong(tr("Your y is {y_shape}: give it the model's output shape, ({rows}, 1), with unsqueeze(-1).",
                            y_shape=y_shape, rows=rows))
        if y_shape[:1] == (n - window,):
            return wrong(tr("Your y has {got} rows for {rows} windows: series[window:] gives the month right after "
                            "each window, a forecast one month ahead. With horizon = {horizon}, the target of "
                            "window i is series[i + window + horizon - 1].",
                            got=n - window, rows=rows, horizon=horizon))
        if y_shape in ((rows - 1, 1), (rows - 1,)):
            return wrong(tr("Your y has {got} rows for {rows} windows: the target of window i is series[i + window "
                            "+ horizon - 1] (horizon months after its last month, i + window - 1), and the last "
                            "window's target is the series' last value.", got=rows - 1, rows=rows))
        if y_shape != (rows, 1):
            return wrong(tr("Your y is {y_shape}; expected ({rows}, 1).", y_shape=y_shape, rows=rows))
        flat = y.reshape(-1)
        if torch.equal(flat, series[window - 1 : window - 1 + rows]):
            return wrong(tr("Each target is its window's own last month: the model would learn to copy its input. "
                            "The target lies horizon months after the window's last month."))
        if torch.equal(flat, series[window : window + rows]):
            return wrong(tr("Each target is the month right after its window: that is a forecast one month ahead. "
                            "With horizon = {horizon}, the target is series[i + window + horizon - 1].",
                            horizon=horizon))
        if not torch.equal(flat, series[window + horizon - 1 :]):
            return wrong(tr("Your y has the right shape, but row i is not series[i + window + horizon - 1], the "
                            "month horizon months after window i's last month."))
    return correct(tr("Two fresh series (horizons 3 and 6) gave windows (N - window - horizon + 1, window, 1), each "
                      "with the month horizon months after its last month as its target."))


@checker("Exercise 3")
def exercise_3(split_in_time: Callable[..., tuple[torch.Tensor, ...]]) -> Verdict:
    """``split_in_time(x, y, n_test)``: the n_test most recent windows are the test part, in order."""
    n, n_test = 60, 15
    x = torch.arange(n * 4, dtype=torch.float32).view(n, 4, 1)  # window i holds months 4i .. 4i + 3
    y = torch.arange(n, dtype=torch.float32).view(n, 1) + 1000  # target i: 1000 + i, later is larger
    result = student(split_in_time, x.clone(), y.clone(), n_test)
    if not isinstance(result, (tuple, list)) or len(result) != 4:
        return wrong(tr("Your split_in_time returned {type_name}; return four tensors: x_train, y_train, x_test, "
                        "y_test.", type_name=type(result).__name__))
    x_train, y_train, x_test, y_test = result
    if len(x_test) != n_test or len(y_test) != n_test or len(x_train) + n_test != n or len(y_train) + n_test != n:
        return wrong(tr("{train} training and {test} test windows from {n} with n_test = {n_test}; expected {rest} "
                        "and {n_test}.", train=len(x_train), test=len(x_test), n=n, n_test=n_test, rest=n - n_test))
    if not torch.equal(x_train[:, 0, 0] / 4, y_train.reshape(-1) - 1000) or not torch.equal(
            x_test[:, 0, 0] / 4, y_test.reshape(-1) - 1000):
        return wrong(tr("Windows and targets no longer match: x and y must be cut at the same rows."))
    newest_train = y_train.max().item()
    older = int((y_test.reshape(-1) < newest_train).sum())
    if torch.equal(y_test.reshape(-1).sort().values, y[:n_test].reshape(-1)):
        return wrong(tr("The test part holds the oldest windows and training the newest: the model would learn from "
                        "the future and be tested on the past. The test part is the last n_test rows."))
    if older:
        return wrong(tr("{older} of the {n_test} test windows are older than the newest training window: the future "
                        "leaks into training (a shuffled split). Neighbouring windows share months, so a model "
                        "would have trained on the very months it is tested on. Cut at one row, no shuffle.",
                        older=older, n_test=n_test))
    if not torch.equal(y_test.reshape(-1), y[-n_test:].reshape(-1)) or not torch.equal(
            y_train.reshape(-1), y[:-n_test].reshape(-1)):
        return wrong(tr("Each part holds the right windows, but not in time order: keep the rows as they came, "
                        "oldest first."))
    return correct(tr("The {n_test} most recent windows are the test part, every training window is older, in order.",
                      n_test=n_test))


@checker("Exercise 4")
def exercise_4(to_channels_first: Callable[[torch.Tensor], torch.Tensor]) -> Verdict:
    """``to_channels_first(x)``: (batch, height, width, channels) -> (batch, channels, height, width),
    element [b, c, h, w] = x[b, h, w, c]."""
    for batch, height, width, channels in ((2, 4, 5, 3), (1, 6, 6, 2)):
        x = torch.arange(batch * height * width * channels, dtype=torch.float32).view(batch, height, width, channels)
        out = student(to_channels_first, x)
        if not isinstance(out, torch.Tensor):
            return wrong(tr("Your to_channels_first returned a {type_name}; return a tensor.",
                            type_name=type(out).__name__))
        shape = tuple(out.shape)
        if out.shape == x.transpose(1, 3).shape and torch.equal(out, x.transpose(1, 3)):
            return wrong(tr("A batch {x_shape} came out as {shape}, (B, C, W, H): transpose(1, 3) (or permute(0, 3, "
                            "2, 1)) swaps width with channels only, so the channels reach the front but height and "
                            "width swap places. The image would be drawn turned on its side. Put height third, "
                            "width last.", x_shape=tuple(x.shape), shape=shape))
        if out.shape == x.permute(0, 2, 3, 1).shape and torch.equal(out, x.permute(0, 2, 3, 1)):
            return wrong(tr("A batch {x_shape} came out as {shape}: permute(0, 2, 3, 1) sends the channels to the "
                            "end (the way to channels-last). permute's numbers say, for each new position, which "
                            "old dimension goes there: the new dimension 1 is the old 3.",
                            x_shape=tuple(x.shape), shape=shape))
        if shape != (batch, channels, height, width):
            return wrong(tr("A batch {x_shape} came out as {shape}; expected ({batch}, {channels}, {height}, "
                            "{width}).",
                            x_shape=tuple(x.shape), shape=shape, batch=batch, height=height, width=width,
                            channels=channels))
        if torch.equal(out, x.reshape(batch, channels, height, width)):
            return wrong(tr("The shape is right but the numbers are regrouped, not moved: view or reshape reads the "
                            "same memory in the same order, so one channel's map takes numbers from every channel. "
                            "Reorder the dimensions instead, as section 6 did for time and batch."))
        if not torch.equal(out, x.permute(0, 3, 1, 2)):
            return wrong(tr("The shape is right, but element [b, c, h, w] is not x[b, h, w, c]."))
    return correct(tr("(2, 4, 5, 3) and (1, 6, 6, 2) batches came out channels-first: each channel's map whole."))


def _unturned_weights(rnn_by_hand: Callable[..., object], rnn: nn.RNN, x: torch.Tensor,
                      expected: torch.Tensor) -> str | None:
    """Which of ``rnn``'s weights the student used without ``.T``: their function is run on stand-ins holding
    those weights turned (W_ih.T, W_hh.T or both); the names of the one that reproduces ``expected``, else None."""
    for names in (("W_ih",), ("W_hh",), ("W_ih", "W_hh")):
        turned = SimpleNamespace(**{name: getattr(rnn, name) for name in ("input_size", "hidden_size", "num_layers",
                                                                          "batch_first", "bias_ih_l0", "bias_hh_l0")})
        turned.weight_ih_l0 = rnn.weight_ih_l0.T if "W_ih" in names else rnn.weight_ih_l0
        turned.weight_hh_l0 = rnn.weight_hh_l0.T if "W_hh" in names else rnn.weight_hh_l0
        try:
            output = student(rnn_by_hand, turned, x)[0]
        except (StudentError, TypeError, IndexError, AttributeError):
            continue
        if isinstance(output, torch.Tensor) and output.shape == expected.shape and torch.allclose(
                output, expected, atol=1e-5):
            return ", ".join(names)
    return None


def _missing_biases(output: torch.Tensor, rnn: nn.RNN, x: torch.Tensor) -> str | None:
    """Which of ``rnn``'s biases (b_ih, b_hh or both) the student's ``output`` leaves out: the names of the ones
    whose zeroing makes ``rnn(x)`` equal ``output``, else None."""
    for names in (("b_ih", "b_hh"), ("b_ih",), ("b_hh",)):
        without = copy.deepcopy(rnn)
        with torch.no_grad():
            for name in names:
                getattr(without, {"b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}[name]).zero_()
            expected = without(x)[0]
        if torch.allclose(output, expected, atol=1e-5):
            return ", ".join(names)
    return None


@checker("Exercise 5")
def exercise_5(rnn_by_hand: Callable[[nn.RNN, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]) -> Verdict:
    """``rnn_by_hand(rnn, x)``: the loop over time of a one-layer ``nn.RNN(batch_first=True)``."""
    torch.manual_seed(5)  # the checker's own weights (the core restores the student's random state)
    rnn = nn.RNN(3, 5, batch_first=True)
    x = torch.randn(4, 6, 3)
    with torch.no_grad():
        expected_output, expected_h_n = rnn(x)
        try:
            result = student(rnn_by_hand, rnn, x)
        except StudentError as error:
            unturned = _unturned_weights(rnn_by_hand, rnn, x, expected_output)
            if unturned:
                return wrong(tr("A batch (4, 6, 3) raised {error}. Your time indexing is fine; the weights are not "
                                "turned: nn.RNN stores weight_ih_l0 as (hidden 5, features 3), one row per hidden "
                                "unit, so x_t (4, 3) multiplies its transpose: x_t @ W_ih.T, and h @ W_hh.T. "
                                "Missing .T on: {names}.", error=error, names=unturned))
            if "mat1 and mat2" in str(error):
                return wrong(tr("A batch (4, 6, 3) raised {error}: a matrix product's inner sizes differ. x_t is "
                                "(4, 3), h is (4, 5), weight_ih_l0 is (5, 3) and weight_hh_l0 is (5, 5): check "
                                "which operand each product gets, and that both weights are used as W.T.",
                                error=error))
            return wrong(tr("A batch (4, 6, 3) raised {error}. With batch_first=True, step t of every window is "
                            "x[:, t], shape (4, 3); x[t] would be window t.", error=error))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return wrong(tr("Your rnn_by_hand returned {type_name}; return two tensors: output, h_n.",
                        type_name=type(result).__name__))
    output, h_n = result
    if tuple(output.shape) == (6, 4, 5):
        return wrong(tr("Your output is (6, 4, 5): the steps were stacked along dimension 0. With batch_first=True, "
                        "time is dimension 1: torch.stack(steps, dim=1) gives (4, 6, 5)."))
    if tuple(output.shape) != (4, 6, 5):
        return wrong(tr("Your output is {shape}; expected (batch 4, time 6, hidden 5).", shape=tuple(output.shape)))
    if tuple(h_n.shape) == (4, 5):
        return wrong(tr("Your h_n is (4, 5): it has one more dimension in front, one row per layer, (1, 4, 5). Add "
                        "it with unsqueeze(0)."))
    if tuple(h_n.shape) == (1, 6, 5):
        return wrong(tr("Your h_n is (1, 6, 5): output[-1] is the last window's 6 steps, not every window's last "
                        "step. With batch_first=True the last step of every window is output[:, -1], (4, 5): "
                        "section 6's h_n[:, -1] trap, the other way round."))
    if tuple(h_n.shape) != (1, 4, 5):
        return wrong(tr("Your h_n is {shape}; expected (layers 1, batch 4, hidden 5).", shape=tuple(h_n.shape)))
    gap = (output - expected_output).abs().max().item()
    if gap > 1e-5:
        with torch.no_grad():
            unturned = _unturned_weights(rnn_by_hand, rnn, x, expected_output)
    if gap > 1e-5 and unturned:
        return wrong(tr("Your output differs from rnn(x) by up to {gap:.3g}, and it matches once {names} is turned: "
                        "weight_hh_l0 is square (5, 5), so h @ W_hh runs without an error, but nn.RNN computes h @ "
                        "W_hh.T. Use .T on both weights.", gap=gap, names=unturned))
    missing = _missing_biases(output, rnn, x) if gap > 1e-5 else None
    if missing:
        return wrong(tr("Your output differs from rnn(x) by up to {gap:.3g}, and it matches nn.RNN with {names} "
                        "left out: the update adds both biases, h = tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh), "
                        "with b_ih = rnn.bias_ih_l0 and b_hh = rnn.bias_hh_l0.", gap=gap, names=missing))
    if gap > 1e-5:
        return wrong(tr("Your output differs from rnn(x) by up to {gap:.3g}. Start from h = zeros (B, H) and use h "
                        "= tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh) with x_t = x[:, t].", gap=gap))
    if not torch.allclose(h_n, expected_h_n, atol=1e-5):
        return wrong(tr("Your output is right but h_n is not the last step's hidden state: h_n[-1] must equal "
                        "output[:, -1]."))
    return correct(tr("Your output (4, 6, 5) and h_n (1, 4, 5) match nn.RNN's to within 1e-5; h_n[-1] is output[:, "
                      "-1]."))


def _read_viewed(model: nn.Module, gru: nn.RNNBase, x: torch.Tensor) -> torch.Tensor | None:
    """The model's last ``nn.Linear`` on the last step of ``gru`` (built without batch_first) run on
    ``x.view(T, B, F)``: the forecasts of a forward that regroups the batch with view where it needed permute;
    None when that cannot run."""
    heads = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not heads or gru.batch_first:
        return None
    try:
        return heads[-1](gru(x.reshape(x.size(1), x.size(0), x.size(2)))[0][-1])
    except (RuntimeError, TypeError, IndexError):
        return None


def _read_over_time(model: nn.Module, gru: nn.RNNBase, x: torch.Tensor) -> torch.Tensor | None:
    """The model's last ``nn.Linear`` applied to the mean over time of ``gru``'s outputs for ``x`` (B, T, 1):
    (B, out), or None when the model is not a GRU followed by that layer."""
    heads = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not heads:
        return None
    try:
        states = gru(x if gru.batch_first else x.transpose(0, 1))[0]
        states = states if gru.batch_first else states.transpose(0, 1)  # (B, T, H)
        return heads[-1](states.mean(1))
    except (RuntimeError, TypeError, IndexError):
        return None


@checker("Exercise 6 (diagnose this run)")
def exercise_6(model_class: Callable[[], nn.Module]) -> Verdict:
    """The drill: each window's forecast must come from its own last step, whatever the GRU's layout: a window
    alone and inside a batch get the same forecast, and the forecast moves with the window's last month."""
    model = student(model_class)
    grus = [m for m in model.modules() if isinstance(m, nn.RNNBase)] if isinstance(model, nn.Module) else []
    if not grus:
        return wrong(tr("FixedForecaster() holds no recurrent layer; keep the GRU and fix how it is built."))
    x = torch.randn(8, 24, 1, generator=torch.Generator().manual_seed(6))
    last_moved = x.clone()
    last_moved[:, -1] += 1.0  # the same windows but for their last month
    no_batch_first = not all(m.batch_first for m in grus)
    model.eval()
    with torch.no_grad():
        together = student(model, x)
        shape = tuple(together.shape)
        if shape != (8, 1) and no_batch_first:
            return wrong(tr("A batch (8, 24, 1) gave {shape}, not one forecast per window, (8, 1). Whatever you "
                            "read from its outputs, the GRU is still built without batch_first=True, so it reads "
                            "(B, 24, 1) as 24 windows of B months. Pass batch_first=True to nn.GRU.", shape=shape))
        if shape == (1, 1):
            return wrong(tr("A batch (8, 24, 1) gave (1, 1): h_n[:, -1] is the last window's state, not each "
                            "window's last step. Read h_n[-1] (or output[:, -1] with batch_first=True)."))
        if shape == (24, 1):
            return wrong(tr("A batch (8, 24, 1) gave (24, 1): output[-1] is the last window's 24 steps, not each "
                            "window's last step. Read output[:, -1] with batch_first=True (or h_n[-1])."))
        if shape != (8, 1):
            return wrong(tr("A batch (8, 24, 1) gave {shape}; expected one forecast per window, (8, 1).", shape=shape))
        alone = torch.cat([student(model, x[i : i + 1]) for i in range(8)])
        moved = student(model, last_moved)
        averaged = _read_over_time(model, grus[0], x)
        viewed = _read_viewed(model, grus[0], x)
    if not torch.allclose(together, alone, atol=1e-5):
        if viewed is not None and viewed.shape == together.shape and torch.allclose(together, viewed, atol=1e-5):
            return wrong(tr("Your forward regroups the batch with view: x.view(24, -1, 1) has the shape (time, "
                            "batch, features), but view never moves a number, so each window the GRU reads takes "
                            "its months from several windows (section 6's view column). Swap the dimensions with "
                            "x.permute(1, 0, 2), or build the GRU with batch_first=True and pass x as it is."))
        if no_batch_first:
            return wrong(tr("The GRU is still built without batch_first=True, so it reads (B, 24, 1) as 24 windows "
                            "of B months: each window's forecast depends on the other windows of its batch. Pass "
                            "batch_first=True to nn.GRU."))
        return wrong(tr("The GRU has batch_first=True, but a window's forecast still changes with its batch: read "
                        "the last step as output[:, -1] (or h_n[-1]), not output[-1] or h_n[:, -1]."))
    if torch.allclose(together, moved, atol=1e-6):
        return wrong(tr("Changing only the last month of each window leaves the forecasts as they were: the model "
                        "reads the first step (output[:, 0]), which has seen one month. Read output[:, -1]."))
    if averaged is not None and averaged.shape == together.shape and torch.allclose(together, averaged, atol=1e-5):
        return wrong(tr("The forecast reads the mean of the GRU's outputs over the 24 steps (output.mean(1)), "
                        "mostly states that saw only part of the window. Read the last step, output[:, -1]."))
    return correct(tr("Each of 8 windows gets the same forecast alone as inside the batch: the GRU now reads each "
                      "window's months as its time steps."))

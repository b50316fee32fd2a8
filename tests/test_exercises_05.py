"""The checkers of notebook 05: the solution passes, an untouched scaffold is "not attempted", and the shape
mistakes students really make (one table per exercise) each get their targeted message."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.exercises import CORRECT, NOT_ATTEMPTED, WRONG
from helpers.exercises import lesson05 as check


def untouched(*args):
    raise NotImplementedError  # YOUR CODE HERE


def expect(feedback, fragment: str) -> None:
    assert feedback.status == WRONG and fragment in feedback.message, feedback


# Exercise 1: a CNN with a stride and an odd size
def strided_cnn(in_features=576, pool=True, padding=1, stride=2):
    class StridedCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, kernel_size=3, stride=stride)
            self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=padding)
            self.pool = nn.MaxPool2d(2)
            self.flatten = nn.Flatten()
            self.fc = nn.Linear(in_features, 10)

        def forward(self, x):
            x = torch.relu(self.conv1(x))
            if pool:
                x = self.pool(x)
            return self.fc(self.flatten(torch.relu(self.conv2(x))))

    return StridedCNN


@pytest.mark.parametrize(("in_features", "fragment"), [
    (784, "rounds 13 / 2 = 6.5 up"), (2704, "halves the size only once"), (256, "padding 1"),
    (288, "first convolution"), (36, "leaves out the channels"), (575, "apply (H + 2P - K) // S + 1"),
])
def test_exercise_1_names_the_in_features_mistake(in_features, fragment, session_untouched):
    expect(check.exercise_1(strided_cnn(in_features)), fragment)


def test_exercise_1(session_untouched):
    assert check.exercise_1(strided_cnn()).status == CORRECT
    assert check.exercise_1(untouched).status == NOT_ATTEMPTED
    expect(check.exercise_1(strided_cnn(padding=0)), "(in, out, kernel, padding, stride)")
    expect(check.exercise_1(strided_cnn(stride=1)), "(in, out, kernel, padding, stride)")
    expect(check.exercise_1(strided_cnn(pool=False)), "raised")  # right in_features, forward misses the pool

    class Sequential(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2), nn.ReLU(), nn.MaxPool2d(2),
                                     nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(576, 10),
                                     nn.Softmax(dim=1))

        def forward(self, x):
            return self.net(x)

    assert check.exercise_1(Sequential).status == CORRECT  # the checker asks for shapes, not a layout


# Exercise 2: windows with a forecast horizon
def windows(series, window, horizon, *, rows=None, features=True, y_dim=True, target=None):
    rows = len(series) - window - horizon + 1 if rows is None else rows
    x = torch.stack([series[i : i + window] for i in range(rows)])
    y = series[window + horizon - 1 :] if target is None else target
    return (x.unsqueeze(-1) if features else x), (y.unsqueeze(-1) if y_dim else y)


def test_exercise_2(session_untouched):
    assert check.exercise_2(windows).status == CORRECT
    unfold = lambda s, w, h: (s.unfold(0, w, 1)[: len(s) - w - h + 1].unsqueeze(-1), s[w + h - 1 :].view(-1, 1))  # noqa: E731
    assert check.exercise_2(unfold).status == CORRECT
    assert check.exercise_2(untouched).status == NOT_ATTEMPTED
    expect(check.exercise_2(lambda s, w, h: windows(s, w, h, features=False)), "unsqueeze(-1)")
    expect(check.exercise_2(lambda s, w, h: windows(s, w, h, y_dim=False)), "model's output shape")
    expect(check.exercise_2(lambda s, w, h: windows(s, w, h, rows=len(s) - w)), "have no month 3 months after")
    expect(check.exercise_2(lambda s, w, h: windows(s, w, h, rows=len(s) - w - h)), "one too few")
    expect(check.exercise_2(lambda s, w, h: windows(s, w, h, target=s[w:])), "series[window:] gives the month right")
    expect(check.exercise_2(lambda s, w, h: windows(s, w, h, target=s[w + h :])), "29 rows for 30 windows")
    expect(check.exercise_2(lambda s, w, h: windows(s, w, h, target=s[w : len(s) - h + 1])), "one month ahead")
    expect(check.exercise_2(lambda s, w, h: windows(s, w, h, target=s[w - 1 : len(s) - h])), "copy its input")


# Exercise 3: a split in time order
def test_exercise_3(session_untouched):
    right = lambda x, y, n: (x[:-n], y[:-n], x[-n:], y[-n:])  # noqa: E731
    assert check.exercise_3(right).status == CORRECT
    assert check.exercise_3(untouched).status == NOT_ATTEMPTED

    def shuffled(x, y, n):
        order = torch.randperm(len(x))
        return x[order[:-n]], y[order[:-n]], x[order[-n:]], y[order[-n:]]

    expect(check.exercise_3(shuffled), "future leaks")
    expect(check.exercise_3(lambda x, y, n: (x[n:], y[n:], x[:n], y[:n])), "oldest windows")
    expect(check.exercise_3(lambda x, y, n: (x[:-n], y[:-n], x[-n - 1 :], y[-n - 1 :])), "expected")
    expect(check.exercise_3(lambda x, y, n: (x[:-n], y[1 : len(y) - n + 1], x[-n:], y[-n:])), "cut at the same rows")
    expect(check.exercise_3(lambda x, y, n: (x[:-n].flip(0), y[:-n].flip(0), x[-n:], y[-n:])), "oldest first")


# Exercise 4: channels to the front
def test_exercise_4(session_untouched):
    assert check.exercise_4(lambda x: x.permute(0, 3, 1, 2)).status == CORRECT
    assert check.exercise_4(lambda x: x.transpose(2, 3).transpose(1, 2)).status == CORRECT
    assert check.exercise_4(untouched).status == NOT_ATTEMPTED
    expect(check.exercise_4(lambda x: x.view(x.size(0), x.size(3), x.size(1), x.size(2))), "regrouped")
    expect(check.exercise_4(lambda x: x.reshape(x.size(0), -1, x.size(1), x.size(2))), "regrouped")
    expect(check.exercise_4(lambda x: x.permute(0, 3, 2, 1)), "swaps width with channels")
    expect(check.exercise_4(lambda x: x.transpose(1, 3)), "transpose(1, 3)")
    expect(check.exercise_4(lambda x: x.permute(0, 2, 3, 1)), "the new dimension 1 is the old 3")
    expect(check.exercise_4(lambda x: x.permute(0, 3, 1, 2) if x.size(1) != x.size(2) else x.permute(0, 3, 2, 1)),
           "swaps width with channels")
    expect(check.exercise_4(lambda x: x.permute(0, 1, 3, 2)), "expected")
    expect(check.exercise_4(lambda x: x.permute(0, 3, 1, 2).flip(1)), "is not x[b, h, w, c]")


# Exercise 5: the RNN's loop over time
def by_hand(rnn, x, *, time_dim=1, keep_layer=True, start=0.0):
    h = torch.full((x.size(0), rnn.hidden_size), start)
    steps = []
    for t in range(x.size(1)):
        h = torch.tanh(x[:, t] @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h @ rnn.weight_hh_l0.T + rnn.bias_hh_l0)
        steps.append(h)
    output = torch.stack(steps, dim=time_dim)
    return output, (h.unsqueeze(0) if keep_layer else h)


def test_exercise_5(session_untouched):
    assert check.exercise_5(by_hand).status == CORRECT
    assert check.exercise_5(untouched).status == NOT_ATTEMPTED
    expect(check.exercise_5(lambda rnn, x: by_hand(rnn, x, time_dim=0)), "dim=1")
    expect(check.exercise_5(lambda rnn, x: by_hand(rnn, x, keep_layer=False)), "unsqueeze(0)")
    expect(check.exercise_5(lambda rnn, x: by_hand(rnn, x, start=0.5)), "h = zeros")
    first_step = lambda rnn, x: (by_hand(rnn, x)[0], by_hand(rnn, x)[0][:, 0].unsqueeze(0))  # noqa: E731
    expect(check.exercise_5(first_step), "h_n[-1]")

    def over_batch(rnn, x):  # x[t]: a window, not a step
        h = torch.zeros(x.size(0), rnn.hidden_size)
        for t in range(x.size(1)):
            h = torch.tanh(x[t] @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h @ rnn.weight_hh_l0.T + rnn.bias_hh_l0)
        return h, h

    expect(check.exercise_5(over_batch), "x[:, t]")

    def untransposed(rnn, x, turn_ih=False, turn_hh=True):  # the weights as stored, without .T
        w_ih = rnn.weight_ih_l0.T if turn_ih else rnn.weight_ih_l0
        w_hh = rnn.weight_hh_l0.T if turn_hh else rnn.weight_hh_l0
        h = torch.zeros(x.size(0), rnn.hidden_size)
        steps = []
        for t in range(x.size(1)):
            h = torch.tanh(x[:, t] @ w_ih + rnn.bias_ih_l0 + h @ w_hh + rnn.bias_hh_l0)
            steps.append(h)
        return torch.stack(steps, dim=1), h.unsqueeze(0)

    feedback = check.exercise_5(untransposed)  # x[:, t] @ W_ih: "(4x3 and 5x3)", not a time-indexing mistake
    expect(feedback, "Missing .T on: W_ih")
    assert "x[t] would be window t" not in feedback.message
    expect(check.exercise_5(lambda rnn, x: untransposed(rnn, x, turn_hh=False)), "Missing .T on: W_ih, W_hh")
    expect(check.exercise_5(lambda rnn, x: untransposed(rnn, x, turn_ih=True, turn_hh=False)), "h @ W_hh runs")
    last_window = lambda rnn, x: (by_hand(rnn, x)[0], by_hand(rnn, x)[0][-1].unsqueeze(0))  # noqa: E731
    feedback = check.exercise_5(last_window)  # h_n = output[-1].unsqueeze(0): (1, 6, 5), section 6's trap
    expect(feedback, "output[-1] is the last window's 6 steps")
    assert "output[:, -1]" in feedback.message

    def without_biases(rnn, x, ih=False, hh=False):
        h = torch.zeros(x.size(0), rnn.hidden_size)
        steps = []
        for t in range(x.size(1)):
            h = torch.tanh(x[:, t] @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 * ih + h @ rnn.weight_hh_l0.T
                           + rnn.bias_hh_l0 * hh)
            steps.append(h)
        return torch.stack(steps, dim=1), h.unsqueeze(0)

    expect(check.exercise_5(without_biases), "with b_ih, b_hh left out")
    expect(check.exercise_5(lambda rnn, x: without_biases(rnn, x, ih=True)), "with b_hh left out")


def test_messages_start_with_a_capital(session_untouched):
    for feedback in (check.exercise_2(lambda s, w, h: (s[:3], s[:3])), check.exercise_3(lambda x, y, n: None),
                     check.exercise_5(lambda rnn, x: by_hand(rnn, x, keep_layer=False)), check.exercise_6(Buggy)):
        assert feedback.status == WRONG and feedback.message[:1].isupper(), feedback.message


# Exercise 6: the drill, batch_first forgotten
class Buggy(nn.Module):
    def __init__(self, hidden_size=32):
        super().__init__()
        self.gru = nn.GRU(input_size=1, hidden_size=hidden_size)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x):
        output, h_n = self.gru(x)
        return self.head(output[:, -1])


class Fixed(Buggy):
    def __init__(self, hidden_size=32):
        super().__init__(hidden_size)
        self.gru = nn.GRU(input_size=1, hidden_size=hidden_size, batch_first=True)


class WrongIndex(Fixed):
    def forward(self, x):
        output, h_n = self.gru(x)
        return self.head(h_n[:, -1]).expand(len(x), 1)  # the last window's state for every window


class Permuted(Buggy):  # section 6's way: keep (time, batch, features) and permute the windows into it
    def forward(self, x):
        states, _ = self.gru(x.permute(1, 0, 2))
        return self.head(states[-1])


class StateColumn(Fixed):
    def forward(self, x):
        output, h_n = self.gru(x)
        return self.head(h_n[:, -1])  # (1, 1): the last window's state


class OutputRow(Fixed):
    def forward(self, x):
        output, h_n = self.gru(x)
        return self.head(output[-1])  # (24, 1): the last window's 24 steps


class LastStateNoBatchFirst(Buggy):  # h_n[-1] read right, batch_first still missing: (24, 1)
    def forward(self, x):
        output, h_n = self.gru(x)
        return self.head(h_n[-1])


class Viewed(Buggy):  # section 6's view mix-up: the right shape (time, batch, features), the months scrambled
    def forward(self, x):
        states, _ = self.gru(x.view(24, -1, 1))
        return self.head(states[-1])


class FirstStep(Fixed):
    def forward(self, x):
        output, h_n = self.gru(x)
        return self.head(output[:, 0])


class Averaged(Fixed):
    def forward(self, x):
        output, h_n = self.gru(x)
        return self.head(output.mean(1))


def test_exercise_6(session_untouched):
    assert check.exercise_6(Fixed).status == CORRECT
    assert check.exercise_6(Permuted).status == CORRECT
    assert check.exercise_6(untouched).status == NOT_ATTEMPTED
    expect(check.exercise_6(Buggy), "batch_first=True")
    assert "is always 0" not in check.exercise_6(Buggy).message
    feedback = check.exercise_6(LastStateNoBatchFirst)  # the reviewer's attempt: the real mistake is batch_first
    expect(feedback, "built without batch_first=True")
    assert "output[-1] is the last window's" not in feedback.message
    expect(check.exercise_6(WrongIndex), "h_n[-1]")
    expect(check.exercise_6(StateColumn), "h_n[:, -1] is the last window's state")
    expect(check.exercise_6(OutputRow), "output[-1] is the last window's 24 steps")
    expect(check.exercise_6(FirstStep), "output[:, 0]")
    feedback = check.exercise_6(Viewed)  # not "pass batch_first": the mistake is view where permute was needed
    expect(feedback, "regroups the batch with view")
    assert "x.permute(1, 0, 2)" in feedback.message
    expect(check.exercise_6(Averaged), "output.mean(1)")


def test_exercise_6_in_korean(korean, session_untouched):
    feedback = check.exercise_6(Buggy)
    assert feedback.status == WRONG and "batch_first=True" in feedback.message and "윈도" in feedback.message


def test_defaults_match_the_settings_the_claims_are_about():
    assert check.DEFAULTS == {"CNN_EPOCHS": 2, "TRAIN_IMAGES": 10000, "VAL_SIZE": 5000, "BATCH_SIZE": 64,
                              "EPOCHS": 30, "LR": 0.01}
    assert check.out_size(28, 3, stride=2) == 13 and check.out_size(13, 2, stride=2) == 6
    assert check.STRIDED_CNN_IN_FEATURES == 576

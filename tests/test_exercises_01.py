"""The checkers of notebook 01: the solution passes, an untouched scaffold is "not attempted",
and the wrong answers students really write each get their targeted message (one table per exercise)."""

from __future__ import annotations

import copy
import re

import pytest
import torch
from torch import nn

from helpers import FEATURES
from helpers.exercises import CORRECT, NOT_ATTEMPTED, WRONG
from helpers.exercises import lesson01 as check
from helpers.models import boston_regression_mlp


def fresh_model(inputs: int) -> nn.Sequential:
    """The source's model with the student's session's random state left alone (a test is a session too)."""
    with torch.random.fork_rng():
        return boston_regression_mlp(inputs)


def untouched(*args):
    raise NotImplementedError  # YOUR CODE HERE


def test_every_untouched_scaffold_reads_not_attempted(session_untouched):
    for feedback in (check.exercise_1(untouched), check.exercise_1(None), check.exercise_2(None, None),
                     check.exercise_3(untouched), check.exercise_4(untouched), check.exercise_5(None, None, untouched)):
        assert feedback.status == NOT_ATTEMPTED, feedback


@pytest.mark.parametrize("bug", ["b", "target shape"])
def test_exercise_5_the_right_letter_with_the_fix_still_to_do(bug, session_untouched):
    feedback = check.exercise_5(bug, (324, 324), untouched)
    assert feedback.status == WRONG and "b is the right letter" in feedback.message, feedback
    assert "train_fixed still raises NotImplementedError" in feedback.message, feedback


# Exercise 1: standardize with the training statistics


def standardize(train, other):
    mean, std = train.mean(dim=0), train.std(dim=0, correction=0)
    return (train - mean) / std, (other - mean) / std


def own_statistics(train, other):
    return tuple((x - x.mean(dim=0)) / x.std(dim=0, correction=0) for x in (train, other))


def sample_std(train, other):
    mean, std = train.mean(dim=0), train.std(dim=0)
    return (train - mean) / std, (other - mean) / std


def all_rows(train, other):
    both = torch.cat([train, other])
    mean, std = both.mean(dim=0), both.std(dim=0, correction=0)
    return (train - mean) / std, (other - mean) / std


def whole_table(train, other):
    mean, std = train.mean(), train.std(correction=0)
    return (train - mean) / std, (other - mean) / std


def per_row(train, other):
    return tuple((x - x.mean(dim=1, keepdim=True)) / x.std(dim=1, correction=0, keepdim=True) for x in (train, other))


def per_row_flat(train, other):
    """dim=1 without keepdim: (N,) statistics against an (N, F) table raise before anything returns."""
    return tuple((x - train.mean(dim=1)) / train.std(dim=1, correction=0) for x in (train, other))


def other_unscaled(train, other):
    mean, std = train.mean(dim=0), train.std(dim=0, correction=0)
    return (train - mean) / std, other


def own_statistics_sample_std(train, other):
    return tuple((x - x.mean(dim=0)) / x.std(dim=0) for x in (train, other))


def centred_only(train, other):
    return train - train.mean(dim=0), other - train.mean(dim=0)


def scaled_only(train, other):
    return train / train.std(dim=0, correction=0), other / train.std(dim=0, correction=0)


def test_exercise_1_solution_passes(session_untouched):
    assert check.exercise_1(standardize).status == CORRECT


@pytest.mark.parametrize("answer, fragment", [
    (own_statistics, "TRAINING mean and std"),
    (sample_std, "correction=0"),
    (all_rows, "leak into the scaling"),
    (whole_table, "per column"),
    (per_row, "per ROW"),
    (per_row_flat, "per ROW"),
    (other_unscaled, "second table came back unchanged"),
    (own_statistics_sample_std, "TRAINING mean and std"),  # the bigger mistake first, not "almost"
    (centred_only, "did not divide by its std"),
    (scaled_only, "did not subtract its mean"),
])
def test_exercise_1_wrong_answers_get_their_hint(answer, fragment, session_untouched):
    feedback = check.exercise_1(answer)
    assert feedback.status == WRONG and fragment in feedback.message, feedback


# Exercise 2: drop B

NO_B = [name for name in FEATURES if name != "B"]


def test_exercise_2_solution_passes_and_reports_both_errors(session_untouched):
    model = fresh_model(12)
    before = [p.detach().clone() for p in model.parameters()]
    feedback = check.exercise_2(list(NO_B), model)
    assert feedback.status == CORRECT and "without B" in feedback.message and "with it" in feedback.message
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True)), "weights restored"


def test_exercise_2_accepts_the_same_layers_nested(session_untouched):
    with torch.random.fork_rng():  # the session's random state stays as it was
        nested = nn.Sequential(nn.Sequential(nn.Linear(12, 30), nn.ReLU()),
                               nn.Sequential(nn.Linear(30, 15), nn.ReLU()), nn.Linear(15, 8), nn.ReLU(),
                               nn.Linear(8, 1))
    feedback = check.exercise_2(list(NO_B), nested)
    assert feedback.status == CORRECT and "without B" in feedback.message, feedback


def test_exercise_2_names_a_layer_chain_that_does_not_fit(session_untouched):
    with torch.random.fork_rng():
        model = nn.Sequential(nn.Linear(12, 30), nn.ReLU(), nn.Linear(20, 15), nn.ReLU(), nn.Linear(15, 8), nn.ReLU(),
                              nn.Linear(8, 1))
    feedback = check.exercise_2(list(NO_B), model)
    assert feedback.status == WRONG and "30, 15, 8 and 1 outputs" in feedback.message, feedback


@pytest.mark.parametrize("features, inputs, fragment", [
    (NO_B, 13, "nn.Linear(12, 30)"),
    (list(FEATURES), 12, "still holds 'B'"),
    (sorted(NO_B), 12, "FEATURES' order"),
    ("CRIM ZN", 12, "a list of names"),
])
def test_exercise_2_wrong_answers_get_their_hint(features, inputs, fragment, session_untouched):
    feedback = check.exercise_2(features, fresh_model(inputs))
    assert feedback.status == WRONG and fragment in feedback.message, feedback


def test_exercise_2_names_a_layer_after_the_price(session_untouched):
    """The next lesson's model ends in nn.Sigmoid(); here it would squeeze every price into (0, 1)."""
    with torch.random.fork_rng():
        model = nn.Sequential(*fresh_model(12), nn.Sigmoid())
    feedback = check.exercise_2(list(NO_B), model)
    assert feedback.status == WRONG and "(Sigmoid)" in feedback.message and "nothing after it" in feedback.message


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy, list, lambda x: x.copy(), lambda x: x[:]])
def test_exercise_2_every_usual_copy_of_the_shared_list_is_a_plain_list(copier):
    mine = copier(FEATURES)
    mine.remove("B")
    assert type(mine) is list and "B" not in mine and "B" in FEATURES


def test_exercise_2_a_list_method_s_none_beside_a_model_is_named(session_untouched):
    """features_no_b = list(FEATURES).remove("B") is None: with a model given, that is a slip, not 'not attempted'."""
    feedback = check.exercise_2(list(FEATURES).remove("B"), fresh_model(12))
    assert feedback.status == WRONG and "features_no_b is still None" in feedback.message, feedback
    assert "list.remove()" in feedback.message


def test_exercise_2_a_model_still_none_beside_a_list_is_asked_for(session_untouched):
    feedback = check.exercise_2(list(NO_B), None)
    assert feedback.status == WRONG and feedback.message == "model_no_b is still None: fill it in too.", feedback


def test_exercise_2_the_shared_list_refuses_the_alias_slip():
    alias = FEATURES
    with pytest.raises(TypeError, match="copy"):
        alias.remove("B")
    assert "B" in FEATURES


# Exercise 3: write the training loop. One loop with switches for the mistakes students make.


def make_loop(*, zero_grad=True, report="mean", flat=False, train_each_epoch=True, evaluate=True, no_grad=True,
              keep="copy", best_from=1, stop="patience", break_before_append=False):
    """The lesson's loop with the best epoch kept and early stopping; ``keep``: "copy" (copy.deepcopy of the
    state_dict), "alias" (the state_dict itself, which changes with the model) or "none" (never loaded back);
    ``best_from``: 1 for epochs counted from 1, 0 for the list position; ``stop``: "patience" (the count of epochs
    since the best reaches patience), "late" (it passes patience), "early" (patience - 1), "no reset" (the count is
    never set back to 0), "previous" (compared with the previous epoch, not the best) or "never"."""
    def train_loop(model, loader, loss_fn, optimizer, epochs, X_val, y_val, patience):
        train_losses, val_losses = [], []
        best_loss, best_epoch, best_weights, waited, previous = float("inf"), 0, None, 0, float("inf")
        model.train()
        for epoch in range(epochs):
            if train_each_epoch:
                model.train()
            total, batch_losses = 0.0, []
            for data, label in loader:
                loss = loss_fn(model(data), label.view(-1) if flat else label)
                if zero_grad is True:
                    optimizer.zero_grad()
                loss.backward()
                if zero_grad == "after":
                    optimizer.zero_grad()
                optimizer.step()
                total += loss.item() * len(data)
                batch_losses.append(loss.item())
            train_losses.append({"mean": total / len(loader.dataset), "last": loss.item(),
                                 "batch mean": sum(batch_losses) / len(batch_losses)}[report])
            if evaluate:
                model.eval()
            with torch.set_grad_enabled(not no_grad):
                val_loss = loss_fn(model(X_val), y_val).item()
            improved = val_loss < (previous if stop == "previous" else best_loss)
            waited = 0 if improved and stop != "no reset" else waited + (not improved)
            previous = val_loss
            if break_before_append and waited == patience:  # this epoch's losses never reach the lists
                train_losses.pop()
                break
            val_losses.append(val_loss)
            if val_losses[-1] < best_loss:
                best_loss, best_epoch = val_losses[-1], epoch + best_from
                best_weights = copy.deepcopy(model.state_dict()) if keep == "copy" else model.state_dict()
            if stop != "never" and waited == {"late": patience + 1, "early": patience - 1}.get(stop, patience):
                break
        if keep != "none":
            model.load_state_dict(best_weights)
        return train_losses, val_losses, best_epoch

    return train_loop


def test_exercise_3_solution_passes(session_untouched):
    feedback = check.exercise_3(make_loop())
    assert feedback.status == CORRECT and "validation RMSE" in feedback.message, feedback
    assert "the best epoch, 33," in feedback.message, feedback  # the loop's seed has best and last epochs apart
    assert "stopped after epoch 41 of at most 60, 8 epochs without" in feedback.message, feedback


@pytest.mark.parametrize("stop, fragment", [
    ("never", "it never stopped. By epoch 41"),
    ("previous", "not since the previous epoch's"),
    ("late", "stopped after epoch 42, one epoch late"),
    ("early", "stopped after epoch 40, one epoch early"),
    ("no reset", "never set back to 0 when the validation loss improves"),
], ids=["never stops", "counts from the previous epoch", "one epoch late", "one epoch early", "count never reset"])
def test_exercise_3_stopping_mistakes_are_named(stop, fragment, session_untouched):
    feedback = check.exercise_3(make_loop(stop=stop))
    assert feedback.status == WRONG and fragment in feedback.message, feedback


def test_exercise_3_stopping_before_the_last_append_is_named(session_untouched):
    feedback = check.exercise_3(make_loop(break_before_append=True))
    assert feedback.status == WRONG and "stopped before appending the last epoch's losses" in feedback.message


@pytest.mark.parametrize("mistake, fragment", [
    ({"zero_grad": False}, "zero_grad() is never called"),
    ({"zero_grad": "after"}, "zero_grad ran after backward (it erased the gradients step needs)"),
    ({"report": "last"}, "last batch alone"),
    ({"report": "batch mean"}, "mean over batches"),
    ({"flat": True}, "targets of shape (32,)"),
    ({"train_each_epoch": False}, "Call model.train() at the start of every epoch"),
    ({"evaluate": False, "train_each_epoch": False}, "call model.eval() before measuring"),
    ({"no_grad": False}, "torch.no_grad()"),
    ({"keep": "alias"}, "without copy.deepcopy"),
    ({"keep": "none"}, "model.load_state_dict(best_weights)"),
    ({"best_from": 0}, "epochs count from 1"),
], ids=["no zero_grad", "zero_grad after backward", "last-batch loss", "mean over batches", "(N,) targets",
        "no train() after eval", "no eval()", "no no_grad",
        "state_dict not copied", "best weights not loaded", "best epoch from 0"])
def test_exercise_3_usual_mistakes_get_their_message(mistake, fragment, session_untouched):
    feedback = check.exercise_3(make_loop(**mistake))
    assert feedback.status == WRONG and fragment in feedback.message, feedback


def test_exercise_3_tensors_instead_of_numbers_and_wrong_lengths(session_untouched):
    def tensors(model, loader, loss_fn, optimizer, epochs, X_val, y_val, patience):
        return [torch.ones(2)] * epochs, [torch.ones(2)] * epochs, 1

    def one_epoch(model, loader, loss_fn, optimizer, epochs, X_val, y_val, patience):
        return make_loop()(model, loader, loss_fn, optimizer, 1, X_val, y_val, patience)

    def two_lists(model, loader, loss_fn, optimizer, epochs, X_val, y_val, patience):
        return make_loop()(model, loader, loss_fn, optimizer, epochs, X_val, y_val, patience)[:2]

    def kept_as_tensors(model, loader, loss_fn, optimizer, epochs, X_val, y_val, patience):
        # loss_sum += loss * len(data)
        train_losses, val_losses, best = make_loop()(model, loader, loss_fn, optimizer, epochs, X_val, y_val,
                                                     patience)
        return [torch.tensor(v, requires_grad=True) for v in train_losses], val_losses, best

    assert "loss.item()" in check.exercise_3(tensors).message
    feedback = check.exercise_3(kept_as_tensors)
    assert feedback.status == WRONG and "hold tensors" in feedback.message and "loss.item()" in feedback.message
    assert "stopped after epoch 1, when only 0 of the 8 epochs of patience" in check.exercise_3(one_epoch).message
    assert "return three things" in check.exercise_3(two_lists).message


# Exercise 4: the first epoch after the best one whose validation RMSE is above the baseline


def first_epoch_above(history, baseline_rmse, *, after_best=True, unit="rmse", label="epoch", empty=None,
                      best="epoch", inclusive=False):
    """The solution, or a usual mistake: ``after_best=False`` looks from epoch 1, ``unit="mse"`` compares the MSE
    with the baseline RMSE, ``label="row"`` returns the row label, ``empty`` is what it returns when none,
    ``best="idxmin"`` takes idxmin()'s row label for the best epoch (one less than the epoch)."""
    if best == "idxmin":
        best = history["val_loss"].idxmin()
    else:
        best = history.loc[history["val_loss"].idxmin(), "epoch"] if after_best else 0
    value = history["val_loss"] ** 0.5 if unit == "rmse" else history["val_loss"]
    after = history["epoch"] >= best if inclusive else history["epoch"] > best
    later = history[after & (value > baseline_rmse)]
    if len(later) == 0:
        return empty
    return int(later["epoch"].iloc[0]) if label == "epoch" else int(later.index[0])


def test_exercise_4_solution_passes(session_untouched):
    feedback = check.exercise_4(first_epoch_above)
    assert feedback.status == CORRECT and "epoch 7" in feedback.message, feedback


@pytest.mark.parametrize("mistake, fragment", [
    ({"after_best": False}, "not overfitting"), ({"unit": "mse"}, "square root of val_loss"),
    ({"label": "row"}, "row label"), ({"empty": 9}, "return None when no such epoch"),
    ({"best": "idxmin"}, "idxmin() is the row label (3 for epoch 4)"),
    ({"inclusive": True}, "epoch > best, not >="),
], ids=["from epoch 1", "MSE against RMSE", "row label", "never None", "idxmin as the best epoch", ">= best"])
def test_exercise_4_wrong_answers_get_their_hint(mistake, fragment, session_untouched):
    feedback = check.exercise_4(lambda history, baseline: first_epoch_above(history, baseline, **mistake))
    assert feedback.status == WRONG and fragment in feedback.message, feedback


def test_exercise_4_the_precedence_slip_is_pointed_at(session_untouched):
    """history["epoch"] > best & (...) compares with best & (...): & binds tighter than >."""
    def precedence(history, baseline_rmse):
        best = history.loc[history["val_loss"].idxmin(), "epoch"]
        later = history[history["epoch"] > best & (history["val_loss"] ** 0.5 > baseline_rmse)]
        return None if later.empty else int(later["epoch"].iloc[0])

    feedback = check.exercise_4(precedence)
    assert feedback.status == WRONG and "own parentheses" in feedback.message, feedback


def test_exercise_4_forgetting_none_is_named_not_an_index_error(session_untouched):
    """Without the None case, ``later["epoch"].iloc[0]`` on an empty table raises IndexError ("single positional
    indexer is out-of-bounds"): the checker says what it means."""
    def no_none_case(history, baseline_rmse):
        best = history.loc[history["val_loss"].idxmin(), "epoch"]
        later = history[(history["epoch"] > best) & (history["val_loss"] ** 0.5 > baseline_rmse)]
        return int(later["epoch"].iloc[0])

    feedback = check.exercise_4(no_none_case)
    assert feedback.status == WRONG, feedback
    assert "no later epoch is above the baseline in this history" in feedback.message, feedback
    assert "Return None" in feedback.message and "out-of-bounds" not in feedback.message, feedback


# Exercise 5 (diagnose this run): targets (N,) against predictions (N, 1)


def train(X, y, epochs=300, *, flat=False, lr=0.01):
    model = boston_regression_mlp(13)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    targets = y.view(-1) if flat else y
    for _ in range(epochs):
        loss = nn.functional.mse_loss(model(X), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


@pytest.mark.parametrize("bug", ["b", " B ", "target shape"])
def test_exercise_5_fixed_run_passes(bug, session_untouched):
    feedback = check.exercise_5(bug, (324, 324), train)
    assert feedback.status == CORRECT, feedback


@pytest.mark.parametrize("bug, fixed, fragment", [
    ("a", train, "what goes into the loss"),
    ("learning rate", train, "not 'a'"),
    ("shape", train, 'one letter: "a", "b", "c" or "d"'),
    ("b", lambda X, y: train(X, y, epochs=30, flat=True), "symptom is still there"),
    ("b", lambda X, y: train(X, y, epochs=33), "little or no better than predicting the mean"),  # 5.85 against 7.78
    ("b", lambda X, y: train(X, y, lr=1e-4), "is worse than predicting the mean"),  # 22.26 against 7.78
], ids=["wrong letter", "wrong name", "not a letter", "still flat", "fixed but too little training",
        "fixed but the rate too low"])
def test_exercise_5_wrong_answers_get_their_hint(bug, fixed, fragment, session_untouched):
    feedback = check.exercise_5(bug, (324, 324), fixed)
    assert feedback.status == WRONG and fragment in feedback.message, feedback


# The Korean edition: the same checks answer in Korean, with the measured values (issue 17).



def test_in_korean_the_checkers_of_notebook_01_answer_in_korean(korean, session_untouched):
    solved = check.exercise_1(standardize)
    assert solved.status == CORRECT, solved
    assert re.search(r"학습 데이터의 열은 평균 [+-]0\.000, 표준편차 1\.000", solved.message), solved
    assert "학습 데이터의 평균과 표준편차로 표준화하세요" in check.exercise_1(own_statistics).message
    assert "correction=0" in check.exercise_1(sample_std).message
    named = check.exercise_2("CRIM", fresh_model(12))
    assert named.message == "features_no_b는 이름의 리스트여야 하는데, str입니다.", named
    table = (324, 324)
    assert check.exercise_5("a", table, untouched).message.startswith("보기 'a'는 답이 아닙니다. ")
    fixed = check.exercise_5("b", table, train).message
    assert "천 달러" in fixed and "k USD" not in fixed
    assert repr(check.exercise_5(None, None, untouched)).startswith("[ ] 연습 5: 아직 풀지 않음.")
    fix_to_do = check.exercise_5("b", table, untouched)
    assert fix_to_do.message.startswith("보기 'b'가 맞습니다."), fix_to_do


def test_exercise_3_names_a_batch_left_on_another_device(session_untouched):
    """On a GPU (Colab) the loader serves CPU batches: a loop without data.to(device) is told so. The meta device
    stands in for the GPU here: the model's weights are not on the CPU, the batches are."""
    feedback = check.exercise_3(make_loop(), device="meta")
    assert feedback.status == WRONG, feedback
    assert "another device" in feedback.message and "data.to(device)" in feedback.message, feedback


@pytest.mark.parametrize("shape, fragment", [
    ((324, 1), "the shape of pred alone"), ((324,), "the shape of targets alone"),
    ((3, 3), "Print (pred - targets).shape"), ("324x324", "Print (pred - targets).shape"),
])
def test_exercise_5_the_loss_table_s_shape_is_asked_and_its_usual_slips_named(shape, fragment, session_untouched):
    """The letter is given away by torch's warning; the (N, N) table the loss averages is the reasoning."""
    feedback = check.exercise_5("b", shape, train)
    assert feedback.status == WRONG and fragment in feedback.message, feedback


def test_exercise_5_accepts_the_shape_as_a_list_or_a_torch_size(session_untouched):
    for shape in ([324, 324], torch.Size([324, 324])):
        feedback = check.exercise_5("b", shape, train)
        assert feedback.status == CORRECT and "(324, 324) table" in feedback.message, feedback


def _later(history, condition):
    later = history[condition]
    return None if later.empty else int(later["epoch"].iloc[0])


@pytest.mark.parametrize("answer, fragment", [
    (lambda h, b: _later(h, h["epoch"] > float(h.loc[h["val_loss"].idxmin(), "epoch"]) & (h["val_loss"] ** 0.5 > b)),
     "own parentheses"),
    (lambda h, b: _later(h, (h["epoch"] > 4) and (h["val_loss"] ** 0.5 > b)), "use & (and |)"),
    (lambda h, b: _later(h, (h["epoch"] > 4) & (h["val_rmse"] > b)), "does not have (val_rmse)"),
    (lambda h, b: _later(h, (h.epoch > 4) & (h.val_rmse > b)), "does not have (val_rmse)"),
], ids=["& before >", "and", "val_rmse column", "val_rmse attribute"])
def test_exercise_4_pandas_errors_are_explained(answer, fragment, session_untouched):
    feedback = check.exercise_4(answer)
    assert feedback.status == WRONG and fragment in feedback.message, feedback


def test_exercise_1_one_std_for_the_table_and_statistics_of_the_scaled_table_are_named(session_untouched):
    def whole_std(train, other):
        return tuple((x - train.mean(dim=0)) / train.std() for x in (train, other))

    def rescaled(train, other):
        train = (train - train.mean(dim=0)) / train.std(dim=0, correction=0)
        return train, (other - train.mean(dim=0)) / train.std(dim=0, correction=0)

    assert "one std for the whole table" in check.exercise_1(whole_std).message
    assert "after that was already scaled" in check.exercise_1(rescaled).message


def test_exercise_5_grades_the_letter_before_the_shape(session_untouched):
    """The statement asks for the letter first: a wrong letter is rebutted with table_shape still None, and the
    right one is told what comes next."""
    assert check.exercise_5("a", None, untouched).message.startswith("not 'a'")
    feedback = check.exercise_5("b", None, untouched)
    assert feedback.status == WRONG and "Next, table_shape" in feedback.message, feedback
    assert check.exercise_5(None, None, untouched).status == NOT_ATTEMPTED

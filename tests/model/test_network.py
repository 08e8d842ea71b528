"""The network and its gradients, checked against finite differences and by learning."""

import time

import numpy as np
import pytest

from model.epochs import Epochs
from model.losses import LOSSES
from model.network import MLP
from model.optim import SGD
from model.train import (
    MAX_WARMUP_STEPS,
    MIN_STEPS,
    TrainConfig,
    TrainingDiverged,
    accuracy,
    batch_size_for,
    fold_mean,
    is_short,
    pixel_mean,
    train,
    training_set,
    training_set_size,
    warmup_epochs,
)


def numeric_gradient(net: MLP, x, y, loss, param: np.ndarray, eps=1e-6) -> np.ndarray:
    grad = np.zeros_like(param)
    for i in np.ndindex(param.shape):
        saved = param[i]
        param[i] = saved + eps
        plus = loss.value(net.predict(x), y)
        param[i] = saved - eps
        minus = loss.value(net.predict(x), y)
        param[i] = saved
        grad[i] = (plus - minus) / (2 * eps)
    return grad


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("loss_name", ["cross-entropy", "squared"])
@pytest.mark.parametrize("hidden", [[7], [6, 5]])
def test_backprop_matches_finite_differences(activation, loss_name, hidden):
    rng = np.random.default_rng(1)
    sizes = [8, *hidden, 4]
    net = MLP(sizes, activation, seed=3, dtype=np.float64)
    for b in net.biases:  # non-zero biases, so their gradients are exercised too
        b[:] = rng.normal(0, 0.1, b.shape)
    x = rng.uniform(0, 1, (5, 8))
    y = rng.integers(0, 4, 5)
    loss = LOSSES[loss_name]
    _, analytic = net.gradients(x, y, loss)
    for param, grad in zip(net.parameters, analytic):
        numeric = numeric_gradient(net, x, y, loss, param)
        rel = np.linalg.norm(grad - numeric) / max(
            np.linalg.norm(grad) + np.linalg.norm(numeric), 1e-12
        )
        assert rel < 1e-6, f"{activation}/{loss_name}/{hidden}: relative error {rel:.2e}"


def test_predict_returns_probabilities_of_the_right_shape():
    net = MLP([784, 32, 10], "relu", seed=0)
    probs = net.predict(np.random.default_rng(0).uniform(0, 1, (3, 784)).astype(np.float32))
    assert probs.shape == (3, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    with pytest.raises(ValueError, match=r"\(n, 784\)"):
        net.predict(np.zeros((3, 783), np.float32))


def test_softmax_survives_huge_scores():
    net = MLP([2, 3], "relu", seed=0)
    net.weights[0][:] = 1e4
    probs = net.predict(np.array([[1.0, 1.0]], np.float32))
    assert np.isfinite(probs).all()


def test_layer_outputs_end_with_predict_or_with_the_hidden_activation():
    net = MLP([6, 5, 4, 3], "sigmoid", seed=2)
    x = np.random.default_rng(0).uniform(0, 1, (7, 6)).astype(np.float32)
    outputs = net.layer_outputs(x)
    assert [o.shape for o in outputs] == [(7, 5), (7, 4), (7, 3)]
    assert np.array_equal(outputs[-1], net.predict(x))  # the same operations, bit for bit
    sigmoids = net.layer_outputs(x, output="activation")
    for a, b in zip(outputs[:-1], sigmoids[:-1]):
        assert np.array_equal(a, b)
    z = outputs[-2] @ net.weights[-1] + net.biases[-1]
    np.testing.assert_allclose(sigmoids[-1], 1 / (1 + np.exp(-z)), rtol=1e-6)
    with pytest.raises(ValueError, match="output"):
        net.layer_outputs(x, output="linear")


def test_initialisation_suits_the_activation():
    relu = MLP([1000, 500, 10], "relu", seed=0)
    sigmoid = MLP([1000, 500, 10], "sigmoid", seed=0)
    assert relu.weights[0].std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)  # He
    limit = np.sqrt(6 / 1500)  # Glorot uniform: std = limit / sqrt(3)
    assert sigmoid.weights[0].std() == pytest.approx(limit / np.sqrt(3), rel=0.02)
    assert np.abs(sigmoid.weights[0]).max() <= limit


def test_a_tiny_network_overfits_64_samples():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (64, 784)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    net = MLP([784, 64, 10], "relu", seed=0)
    loss = LOSSES["cross-entropy"]
    ws = net.workspace(64)
    opt = SGD(net.parameters, momentum=0.9)
    grads = [g for gw in zip(ws.grad_w, ws.grad_b) for g in gw]
    for _ in range(200):
        probs = net.forward_(x, ws)
        net.backward_(x, ws, loss.delta(probs, y, out=ws.deltas[-1]))
        opt.step(grads, 0.05)
    assert (net.predict(x).argmax(axis=1) == y).mean() == 1.0


def test_same_seed_same_weights_bit_for_bit(mnist_small):
    images, labels = mnist_small
    config = TrainConfig(hidden=(32,), epochs=2, augment=True, max_train_samples=2000, seed=7)
    a = train(config, images, labels)
    b = train(config, images, labels)
    for pa, pb in zip(a.network.parameters, b.network.parameters):
        assert np.array_equal(pa, pb)
    c = train(TrainConfig(**{**config.to_dict(), "seed": 8}), images, labels)
    assert not np.array_equal(a.network.weights[0], c.network.weights[0])


def test_a_training_whose_loss_stops_being_a_number_raises_instead_of_returning_nan(mnist_small):
    """A learning rate of 1e9 once gave a model of NaN weights, written and reported as fine."""
    images, labels = mnist_small
    config = TrainConfig(
        hidden=(8,), epochs=2, augment=False, max_train_samples=500, learning_rate=1e9
    )
    with pytest.raises(TrainingDiverged, match=r"in epoch 1: .*lower the learning rate"):
        train(config, images, labels)


def test_training_emits_epoch_and_batch_events(mnist_small):
    images, labels = mnist_small
    events = []
    config = TrainConfig(
        hidden=(16,), epochs=2, augment=False, max_train_samples=3000, progress_every=5
    )
    result = train(config, images, labels, callback=events.append)
    epochs = [e for e in events if e["kind"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert any(e["kind"] == "batch" for e in events)
    for e in epochs:
        assert 0 <= e["train_accuracy"] <= 1 and 0 <= e["validation_accuracy"] <= 1
        assert e["loss"] > 0 and e["elapsed"] > 0 and e["eta"] >= 0
    assert epochs[-1]["eta"] == 0
    assert result.history == epochs


def test_the_eta_leaves_out_the_wait_for_the_first_epochs_images(mnist_small, monkeypatch):
    """The first augmented epoch is made before any training overlaps it: a one-off, like
    assembling the data set. Counted as the epochs' pace, it made a small job's first ETA
    many times the time left."""
    get = Epochs.get

    def slow_first(self, epoch):
        if epoch == 0:
            time.sleep(1.0)  # a slow first augmentation
        return get(self, epoch)

    monkeypatch.setattr(Epochs, "get", slow_first)
    images, labels = mnist_small
    events = []
    config = TrainConfig(hidden=(16,), epochs=5, augment=False, max_train_samples=500)
    train(config, images, labels, callback=events.append)
    first = next(e for e in events if e["kind"] == "epoch")
    assert first["elapsed"] > 1.0
    assert first["eta"] < 0.5  # four epochs of 400 images left; 4 s with the wait counted


def test_the_lectures_sigmoid_and_squared_error_learns(mnist_small, mnist_test):
    images, labels = mnist_small
    config = TrainConfig(
        hidden=(64,),
        activation="sigmoid",
        loss="squared",
        epochs=4,
        learning_rate=0.5,
        augment=False,
        max_train_samples=10_000,
    )
    result = train(config, images, labels)
    x, y = mnist_test
    accuracy = (result.network.predict(x).argmax(axis=1) == y).mean()
    assert accuracy >= 0.90, accuracy


def test_the_mean_folded_into_the_first_biases_lets_the_network_read_plain_pixels():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    mean = pixel_mean(images)
    assert mean.shape == (784,) and mean.dtype == np.float32
    np.testing.assert_allclose(mean, images.reshape(50, -1).mean(axis=0) / 255, rtol=1e-6)
    net = MLP([784, 16, 11], "relu", seed=0)
    weights = [w.copy() for w in net.weights]
    x = rng.uniform(0, 1, (32, 784)).astype(np.float32)
    centred = net.predict(x - mean)
    fold_mean(net, mean)
    np.testing.assert_allclose(net.predict(x), centred, atol=1e-6)
    assert all(np.array_equal(a, b) for a, b in zip(weights, net.weights))  # biases only


def test_the_newcomers_one_epoch_job_reads_over_90_percent_of_mnist(mnist, mnist_test):
    """The admin page's quickest retrain: 784-64-11, one epoch of 5,000 MNIST images (8,500
    with the generated digits and marks), every other setting at its default. It read 79 % of
    the test set with a whole epoch of warm-up, 88.7 % on raw pixels; as a short run it centres
    its inputs (mean of 5 seeds 90.8 %, this seed 91.05 %), past 90 % eleven-way."""
    config = TrainConfig(hidden=(64,), epochs=1, max_train_samples=5000)
    assert is_short(config, training_set_size(config, len(mnist.train_y)))
    assert not is_short(TrainConfig(), training_set_size(TrainConfig(), len(mnist.train_y)))
    result = train(config, mnist.train_x, mnist.train_y)
    assert accuracy(result.network, *mnist_test) > 0.90


def test_the_warm_up_is_a_share_of_the_run_and_at_most_a_few_hundred_steps():
    short = TrainConfig(hidden=(64,), epochs=1, max_train_samples=5000)
    assert warmup_epochs(short, batches=40) == pytest.approx(0.05)  # 2 steps, not the epoch
    shipped = TrainConfig()  # 30 epochs of about 700 steps: 5 % would be 1,050 steps
    assert warmup_epochs(shipped, batches=700) == pytest.approx(MAX_WARMUP_STEPS / 700)
    assert warmup_epochs(TrainConfig(warmup_share=0.0), batches=700) == 0.0


def test_a_short_run_takes_smaller_batches_and_a_long_one_keeps_its_own():
    shipped = TrainConfig()
    assert batch_size_for(shipped, training_set_size(shipped, 60_000)) == 128
    # The newcomer's job: 1 epoch of 5,000 MNIST images, with the synthetic digits and the
    # synthetic and real marks 8,500 images, is 67 steps of 128; it takes MIN_STEPS of 17.
    short = TrainConfig(hidden=(64,), epochs=1, max_train_samples=5000)
    samples = training_set_size(short, 60_000)
    assert samples == 8500
    assert batch_size_for(short, samples) == 17 == samples // MIN_STEPS
    assert batch_size_for(TrainConfig(epochs=4), 8000) == 64  # 4 × 125 = 500 steps
    assert batch_size_for(TrainConfig(epochs=1), 100) == 16  # never smaller than 16...
    assert batch_size_for(TrainConfig(epochs=1, batch_size=8), 100) == 8  # ...unless asked


def test_a_run_asked_for_n_images_trains_on_n_beside_its_validation_split(mnist_small):
    images, labels = mnist_small
    config = TrainConfig(max_train_samples=3000, synthetic_share=0, mark_share=0)
    data = training_set(config, images, labels)
    assert len(data.labels) == 3000 == training_set_size(config, len(labels))
    assert len(data.val_y) == 4000  # a fifth of 20,000: the same split as a run on all of them
    whole = training_set(TrainConfig(synthetic_share=0, mark_share=0), images, labels)
    assert np.array_equal(data.val_x, whole.val_x)

"""The bounds of a training's settings, for the admin retrain and `digits train` alike.

Together they cap a job's memory (at most 4 × 1024-wide layers, ~4 M parameters) and its length
(the job's wall-clock limit, Settings.job_timeout_seconds, is the backstop). A plain module with
no imports: the command line reads it without loading the API's schemas.
"""

RETRAIN_LIMITS = {
    "hidden_layers": (1, 4),  # number of hidden layers
    "width": (1, 1024),  # units in each hidden layer
    "epochs": (1, 100),
    "batch_size": (8, 1024),
    "learning_rate": (1e-5, 2.0),
    "momentum": (0.0, 0.999),
    "weight_decay": (0.0, 0.1),
    "seed": (0, 2**31 - 1),
    "max_train_samples": (100, 55_000),  # MNIST's 60,000 less the 5,000 that validate
    "feedback_weight": (1, 100),
}

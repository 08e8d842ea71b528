"""How the admin page writes a job's config (static/js/admin/format.js), in the browser."""

from __future__ import annotations

import pytest
from e2e_support import DrawingPage

pytestmark = pytest.mark.e2e


def test_a_jobs_config_says_what_its_request_asked_beyond_the_training_config(
    drawing: DrawingPage,
):
    """The job history's Config column: two runs that differ only in training on the stored
    drawings, or in Force, must not read the same."""
    config = {"hidden": [512, 256], "epochs": 30, "max_train_samples": 6000, "augment": True}
    texts = drawing.page.evaluate(
        """async (config) => {
          const { configText } = await import('/static/js/admin/format.js');
          return [
            configText(config, {}),
            configText(config, { include_feedback: true, feedback_weight: 3, force: true }),
            configText({ ...config, augment: false, max_train_samples: null },
                       { include_feedback: true }),
            configText(config, null),  // a record from an older release
            configText(null, {}),
          ];
        }""",
        config,
    )
    assert texts == [
        "512·256 · 30 ep · 6,000 img · aug",
        "512·256 · 30 ep · 6,000 img · aug · drawings ×3 · force",
        "512·256 · 30 ep · drawings",
        "512·256 · 30 ep · 6,000 img · aug",
        "–",
    ]

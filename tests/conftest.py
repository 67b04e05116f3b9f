"""Shared fixtures: offline mode, few threads, one tiny SynthOcc tree per test session."""

import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="rganet-test-cache-")  # pre-flight cache

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(min(2, os.cpu_count() or 1))

from inference_runs import osnet_run, rganet_run  # noqa: E402, F401  (tiny run folders)


@pytest.fixture(scope="session")
def synthocc_root(tmp_path_factory):
    """A data root holding the tiny SynthOcc benchmark (generated once per session)."""
    from rganet_reid.data.synthocc import ensure_synthocc

    root = tmp_path_factory.mktemp("data")
    ensure_synthocc(root, size="tiny", seed=0)
    return root

"""Packaging for rganet-reid: RGANet as a torchreid extension.

Ranges are loose for real users; the machines this project is tested on pin the exact
torch/torchvision pair through ``constraints.txt`` (``make setup`` uses it).
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).parent

# torchreid 0.2.5 (the registry build of upstream torchreid 1.4.0) declares no
# dependencies, yet needs these to import.
TORCHREID_RUNTIME_DEPS = [
    "scipy>=1.7",
    "opencv-python-headless>=4.5",
    "tensorboard>=2.10",
    "matplotlib>=3.5",
    "gdown>=4.0",
]

ONNX_DEPS = ["onnx>=1.16", "onnxruntime>=1.18", "onnxscript>=0.2"]

setup(
    name="rganet-reid",
    version="0.1.0",
    description="RGANet (Region Generation and Assessment Network) for occluded person "
    "re-identification, as a torchreid extension",
    long_description=(HERE / "README.md").read_text(encoding="utf-8")
    if (HERE / "README.md").exists()
    else "",
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    # every folder below rganet_reid/, data-only ones (model_configs/) included; the code
    # folders are regular packages (tests/test_packaging.py checks both and the built wheel)
    packages=find_namespace_packages(include=["rganet_reid", "rganet_reid.*"],
                                     exclude=["*.__pycache__"]),
    include_package_data=True,
    # modeling/weights/: the shipped synthocc-clip tiny CLIP (sha256-checked on load)
    package_data={"rganet_reid": ["config/*.yaml", "modeling/model_configs/*.json",
                                  "modeling/weights/*.safetensors"]},
    install_requires=[
        "torch>=2.1",
        "torchvision>=0.16",
        "torchreid>=0.2.5",
        "open_clip_torch>=2.20",
        "faiss-cpu>=1.7.4",
        "yacs>=0.1.8",
        "tabulate>=0.9",
        "tqdm>=4.60",
        "numpy>=1.22",
        "Pillow>=9.0",
        "safetensors>=0.4",
        "filelock>=3.0",  # one process per benchmark run folder / cached weights file
        *TORCHREID_RUNTIME_DEPS,
    ],
    extras_require={
        # rganet-export / the extractor's ONNX backend: the exporter (torch.onnx with dynamo
        # needs onnxscript), onnx's checker, onnxruntime
        "onnx": ONNX_DEPS,
        "dev": ["pytest>=7", "ruff>=0.4", *ONNX_DEPS],
        # faiss-gpu provides the same `faiss` module; install it instead of faiss-cpu on GPU hosts.
        "gpu": ["faiss-gpu>=1.7.4"],
    },
    entry_points={
        "console_scripts": [
            "rganet-main=rganet_reid.cli.main:main",
            "rganet-benchmark=rganet_reid.benchmark.cli:main",
            "rganet-search=rganet_reid.cli.search:main",
            "rganet-export=rganet_reid.cli.export:main",
            "rganet-eval-sharded=rganet_reid.cli.eval_sharded:main",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Image Recognition",
    ],
)

"""The single source of every configuration key and its meaning.

Sections mirror torchreid's ``scripts/default_config.py`` (model, data, sampler, train, sgd,
adam, rmsprop, loss, test) so torchreid users find their keys where they expect them; RGANet's
own keys live in the ``rganet`` section (:mod:`rganet_reid.config.rganet`) and large-scale
retrieval keys in ``retrieval`` (:mod:`rganet_reid.config.retrieval`). YAML files only override
these (``_BASE_`` inheritance, see :mod:`rganet_reid.config.loader`).
"""

from __future__ import annotations

from yacs.config import CfgNode as CN

from rganet_reid.config.clip_pretrain import add_clip_pretrain_config
from rganet_reid.config.distributed import add_distributed_config
from rganet_reid.config.retrieval import add_retrieval_config
from rganet_reid.config.rganet import add_rganet_config

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def get_default_config() -> CN:
    """Return a fresh copy of the default configuration."""
    _C = CN()
    # "auto": CUDA when available, else CPU. Or an explicit torch device string ("cpu", "cuda:1").
    _C.device = "auto"
    _C.seed = 1

    # ---------------------------------------------------------------- model
    _C.model = CN()
    _C.model.name = "osnet_x0_25"  # torchreid built-in name, or an rganet-reid model
    # torchreid built-ins: "" = random init, "imagenet" = torchreid's ImageNet weights (online).
    # RGANet: a local CLIP checkpoint (.pt / .safetensors) or an open_clip pretrained tag.
    _C.model.pretrained = ""
    _C.model.load_weights = ""  # weights to load before training / testing (model only)
    _C.model.resume = ""  # checkpoint to resume training from exactly (model+optim+RNG)

    # ---------------------------------------------------------------- data
    _C.data = CN()
    _C.data.root = "data"  # data root (git-ignored); SynthOcc is generated here
    _C.data.sources = ["synthocc_occluded"]
    _C.data.targets = ["synthocc_occluded"]
    _C.data.workers = 2
    _C.data.split_id = 0
    _C.data.height = 256
    _C.data.width = 128
    _C.data.combineall = False
    # Training augmentation, applied jointly to image and part mask:
    # random_flip, pad_crop (pad data.pad then random crop), random_erase, color_jitter,
    # random_occlude (a textured occluder from the bottom edge or a side band, labelled 0 in
    # the mask; rganet_reid.data.transforms.JointRandomOcclusion; not in the paper).
    _C.data.transforms = ["random_flip", "pad_crop", "random_erase"]
    _C.data.pad = 10
    _C.data.erase_prob = 0.5
    _C.data.occlude_prob = 0.5  # random_occlude: probability per image
    _C.data.occlude_extent = [0.2, 0.5]  # random_occlude: height share of a bottom occluder
    _C.data.norm_mean = list(IMAGENET_MEAN)
    _C.data.norm_std = list(IMAGENET_STD)
    _C.data.save_dir = "output/run"  # run folder: log file, TensorBoard, checkpoints
    # Part-label masks (one PNG label map per image, same relative path as the image, labels
    # 0=background/occluder, 1..N parts). "" = use the masks a dataset ships (SynthOcc), if any.
    _C.data.mask_root = ""
    _C.data.load_masks = False  # read masks for the training set (RGANet's L_seg needs them)
    # Decode every image of every split before training (cached by size+mtime; off: False).
    _C.data.preflight = True
    _C.data.synthocc = CN()
    _C.data.synthocc.size = "demo"  # tiny | demo | demo_scene | full (rganet_reid.data.synthocc)
    _C.data.synthocc.seed = 0

    # ---------------------------------------------------------------- dataset specific
    _C.market1501 = CN()
    _C.market1501.use_500k_distractors = False
    _C.cuhk03 = CN()
    _C.cuhk03.labeled_images = False
    _C.cuhk03.classic_split = False
    _C.cuhk03.use_metric_cuhk03 = False
    _C.msmt17 = CN()
    # Which MSMT17 release to read: "auto" (the one data.root holds; V1 when it holds both),
    # "v1" or "v2".
    _C.msmt17.version = "auto"

    # ---------------------------------------------------------------- sampler
    _C.sampler = CN()
    _C.sampler.train_sampler = "RandomIdentitySampler"
    _C.sampler.num_instances = 4
    _C.sampler.num_cams = 1
    _C.sampler.num_datasets = 1

    # ---------------------------------------------------------------- train
    _C.train = CN()
    _C.train.optim = "adam"
    _C.train.lr = 3.5e-4
    _C.train.weight_decay = 5e-4
    _C.train.max_epoch = 60
    _C.train.batch_size = 64
    _C.train.fixbase_epoch = 0
    _C.train.open_layers = ["classifier"]
    _C.train.staged_lr = False
    _C.train.new_layers = ["classifier"]
    _C.train.base_lr_mult = 0.1
    _C.train.lr_scheduler = "multi_step"  # multi_step | single_step | cosine
    _C.train.stepsize = [20]
    _C.train.gamma = 0.1
    _C.train.print_freq = 20
    _C.train.max_time = 0.0  # wall-time budget in seconds for training (0 = none)
    _C.train.checkpoint_freq = 1  # save a resumable checkpoint every N epochs
    _C.train.amp = "none"  # none | bf16 | fp16 (autocast)

    # ---------------------------------------------------------------- optimizers
    _C.sgd = CN()
    _C.sgd.momentum = 0.9
    _C.sgd.dampening = 0.0
    _C.sgd.nesterov = False
    _C.rmsprop = CN()
    _C.rmsprop.alpha = 0.99
    _C.adam = CN()
    _C.adam.beta1 = 0.9
    _C.adam.beta2 = 0.999

    # ---------------------------------------------------------------- loss
    _C.loss = CN()
    _C.loss.name = "triplet"  # softmax | triplet (softmax + triplet) | rganet
    _C.loss.softmax = CN()
    _C.loss.softmax.label_smooth = True
    _C.loss.triplet = CN()
    _C.loss.triplet.margin = 0.3
    _C.loss.triplet.weight_t = 1.0
    _C.loss.triplet.weight_x = 1.0

    # ---------------------------------------------------------------- test
    _C.test = CN()
    _C.test.batch_size = 128
    _C.test.dist_metric = "cosine"  # cosine | euclidean (global-feature models)
    _C.test.normalize_feature = True
    _C.test.ranks = [1, 3, 5, 10]
    _C.test.evaluate = False  # test only
    _C.test.eval_freq = -1  # evaluate every N epochs during training (-1: only at the end)
    _C.test.start_eval = 0
    _C.test.rerank = False
    # Rank-list figures (paper Fig. 5 form) at each evaluation, in <save_dir>/visrank/:
    # test.visrank_queries random queries (with a correct match) beside their top-k.
    _C.test.visrank = False
    _C.test.visrank_topk = 10
    _C.test.visrank_queries = 8

    add_rganet_config(_C)
    add_retrieval_config(_C)
    add_clip_pretrain_config(_C)
    add_distributed_config(_C)
    return _C
